package quality

import (
	"image"
	"math"

	"github.com/palmd/palmd/vision/internal/downscale"
)

// Reason names why a frame was refused; OK is the empty reason.
type Reason string

// The reasons Check reports, in the order it tests them.
const (
	OK        Reason = ""
	NoPalm    Reason = "no_palm"
	TooClose  Reason = "too_close"
	TooBright Reason = "too_bright"
	TooDark   Reason = "too_dark"
	OffCentre Reason = "off_centre"
	TooFar    Reason = "too_far"
	Moving    Reason = "moving"
	Blurred   Reason = "blurred"
)

// Guidance is the sentence the display shows for r.
func (r Reason) Guidance() string {
	switch r {
	case OK:
		return "Hold still, scanning"
	case NoPalm:
		return "Hold your palm over the scanner"
	case TooDark:
		return "Hold your palm nearer the light"
	case TooBright:
		return "Shade the scanner from bright light"
	case TooFar:
		return "Move your hand closer"
	case TooClose:
		return "Move your hand further away"
	case OffCentre:
		return "Move your hand to the centre"
	case Moving:
		return "Hold still"
	case Blurred:
		return "Hold your palm flat and steady"
	}
	return "Hold your palm over the scanner"
}

// Scores are the measurements behind a Verdict. Each is compared with the
// threshold documented in the package documentation.
type Scores struct {
	Contrast   float64 // palm mean minus background mean, grey levels
	Brightness float64 // palm mean, grey levels
	Saturation float64 // fraction of palm pixels at or above 250
	Area       float64 // hand (palm class) area as a fraction of the frame
	Offset     float64 // palm disc centre from frame centre, fraction of the half-diagonal
	Radius     float64 // radius of the largest disc inside the hand (the palm), fraction of frame width
	Motion     float64 // hand centroid shift since the previous frame, fraction of frame width; -1 on the first frame
	Focus      float64 // 10^4 x mean squared Laplacian / mean^2 inside the palm disc
}

// Verdict is the gate's decision on one lit frame.
type Verdict struct {
	OK       bool
	Reason   Reason
	Guidance string // one short sentence for the display
	Scores   Scores
}

// Thresholds; see doc.go for what each means and how it was calibrated.
const (
	minContrast   = 5.0
	maxArea       = 0.53
	maxSaturation = 0.10
	minBrightness = 74.0
	maxOffset     = 0.24
	minRadius     = 0.135
	maxMotion     = 0.005
	minFocus      = 15.0
)

const (
	workWidth = 320 // width of the downscaled copy the gate measures on
	saturated = 250 // grey level counted as saturated
)

// Gate checks lit frames one by one. It keeps the previous frame's palm
// position to measure motion, so use one Gate per camera and Reset it at
// the start of each session. A Gate is not safe for concurrent use.
type Gate struct {
	ds       *downscale.Downscaler
	small    image.Point // size of the downscaled copy
	smallPix []byte      // the downscaled copy (OpenCV memory)
	dist     []int32     // chamfer distance to the background, per small pixel
	prev     point       // previous palm centre in small pixels
	hasPrev  bool
}

// NewGate returns a Gate with buffers for 1280 x 800 frames; frames of
// another size reallocate them once.
func NewGate() *Gate {
	g := &Gate{ds: downscale.New(image.Pt(1280, 800), workWidth)}
	g.fit()
	return g
}

// fit sizes the gate's own buffers after the downscaler's.
func (g *Gate) fit() {
	g.small = g.ds.Small()
	g.dist = make([]int32, g.small.X*g.small.Y)
	g.hasPrev = false
}

// Reset forgets the previous frame; call it when a new session starts.
func (g *Gate) Reset() { g.hasPrev = false }

// Close zeroes and frees the gate's buffers.
func (g *Gate) Close() error {
	clear(g.dist)
	return g.ds.Close()
}

// Check measures one lit frame and decides whether it is good enough for
// liveness and matching. The first frame after NewGate or Reset is never OK:
// motion needs two frames.
func (g *Gate) Check(frame *image.Gray) Verdict {
	b := frame.Bounds()
	if b.Empty() {
		return verdict(NoPalm, Scores{Motion: -1})
	}
	if g.ds.Fit(b.Size()) {
		g.fit()
	}
	m := g.ds.Do(frame)
	g.smallPix, _ = m.DataPtrUint8()
	s, centre, ok := g.measure()
	g.smallPix = nil
	g.ds.Clear()
	clear(g.dist)
	if !ok {
		g.hasPrev = false
		return verdict(NoPalm, s)
	}
	if g.hasPrev {
		s.Motion = math.Hypot(centre.X-g.prev.X, centre.Y-g.prev.Y) / float64(g.small.X)
	}
	g.prev, g.hasPrev = centre, true
	return verdict(decide(s), s)
}

func verdict(r Reason, s Scores) Verdict {
	return Verdict{OK: r == OK, Reason: r, Guidance: r.Guidance(), Scores: s}
}

// decide applies the thresholds in order of what the person should fix first.
func decide(s Scores) Reason {
	switch {
	case s.Contrast < minContrast:
		return NoPalm
	case s.Area > maxArea:
		return TooClose
	case s.Saturation > maxSaturation:
		return TooBright
	case s.Brightness < minBrightness:
		return TooDark
	case s.Offset > maxOffset:
		return OffCentre
	case s.Radius < minRadius:
		return TooFar
	case s.Motion < 0 || s.Motion > maxMotion:
		return Moving
	case s.Focus < minFocus:
		return Blurred
	}
	return OK
}

type point struct{ X, Y float64 }

// measure segments the palm on the small image with Otsu's threshold and
// measures it. ok is false when there is nothing to segment.
func (g *Gate) measure() (Scores, point, bool) {
	var hist [256]int
	for _, v := range g.smallPix {
		hist[v]++
	}
	n := len(g.smallPix)
	t := otsu(&hist, n)
	var nb, nf, sb, sf, sat int
	for v := range 256 {
		if v > t {
			nf += hist[v]
			sf += hist[v] * v
			if v >= saturated {
				sat += hist[v]
			}
		} else {
			nb += hist[v]
			sb += hist[v] * v
		}
	}
	s := Scores{Motion: -1}
	if nf == 0 || nb == 0 {
		return s, point{}, false
	}
	s.Brightness = float64(sf) / float64(nf)
	s.Contrast = s.Brightness - float64(sb)/float64(nb)
	s.Saturation = float64(sat) / float64(nf)
	s.Area = float64(nf) / float64(n)

	cols, rows := g.small.X, g.small.Y
	var cx, cy int
	tb := uint8(t)
	for y := range rows {
		for x, v := range g.smallPix[y*cols : (y+1)*cols] {
			if v > tb {
				cx += x
				cy += y
			}
		}
	}
	c := point{float64(cx)/float64(nf) + 0.5, float64(cy)/float64(nf) + 0.5}

	// The palm is the thickest part of the hand: the centre and radius of
	// the largest disc inside the mask ignore fingers and forearm.
	pc, r := g.inscribed(tb)
	dx := pc.X - float64(cols)/2
	dy := pc.Y - float64(rows)/2
	s.Offset = math.Hypot(dx, dy) / math.Hypot(float64(cols)/2, float64(rows)/2)
	s.Radius = r / float64(cols)
	s.Focus = g.focus(pc, r)
	return s, c, true
}

// Chamfer distance weights (Borgefors 3-4): 3 per step along an axis, 4 per
// diagonal step.
const (
	chamferAxis = 3
	chamferDiag = 4
)

// inscribed returns the centre and radius (small pixels) of the largest disc
// inside the pixels brighter than t, by a two-pass chamfer distance
// transform in which everything outside the frame counts as background.
func (g *Gate) inscribed(t uint8) (point, float64) {
	cols, rows := g.small.X, g.small.Y
	d := g.dist
	for y := range rows {
		for x := range cols {
			i := y*cols + x
			if g.smallPix[i] <= t {
				d[i] = 0
				continue
			}
			v := int32(chamferAxis)
			if x > 0 && y > 0 {
				v = min(d[i-1]+chamferAxis, d[i-cols]+chamferAxis, d[i-cols-1]+chamferDiag)
				if x < cols-1 {
					v = min(v, d[i-cols+1]+chamferDiag)
				}
			}
			d[i] = v
		}
	}
	best, bi := int32(0), 0
	for y := rows - 1; y >= 0; y-- {
		for x := cols - 1; x >= 0; x-- {
			i := y*cols + x
			v := d[i]
			if v == 0 {
				continue
			}
			if x == cols-1 || y == rows-1 {
				v = chamferAxis
			} else {
				v = min(v, d[i+1]+chamferAxis, d[i+cols]+chamferAxis, d[i+cols+1]+chamferDiag)
				if x > 0 {
					v = min(v, d[i+cols-1]+chamferDiag)
				}
			}
			d[i] = v
			if v > best {
				best, bi = v, i
			}
		}
	}
	return point{float64(bi%cols) + 0.5, float64(bi/cols) + 0.5}, float64(best) / chamferAxis
}

// focus is the mean squared 4-neighbour Laplacian over a square inside the
// palm disc (centre c, radius r in small pixels), divided by the squared
// mean grey level so that it does not depend on exposure (x 10^4).
func (g *Gate) focus(c point, r float64) float64 {
	cols, rows := g.small.X, g.small.Y
	h := int(r * 0.6)
	x0, y0 := max(1, int(c.X)-h), max(1, int(c.Y)-h)
	x1, y1 := min(cols-1, int(c.X)+h), min(rows-1, int(c.Y)+h)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	var sum, mean float64
	p := g.smallPix
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			i := y*cols + x
			l := int(p[i-cols]) + int(p[i+cols]) + int(p[i-1]) + int(p[i+1]) - 4*int(p[i])
			sum += float64(l * l)
			mean += float64(p[i])
		}
	}
	n := float64((x1 - x0) * (y1 - y0))
	mean /= n
	return 1e4 * sum / n / (mean * mean)
}

// otsu returns the grey level that best splits hist into two classes
// (Otsu 1979): pixels above it are palm.
func otsu(hist *[256]int, n int) int {
	var total float64
	for v, c := range hist {
		total += float64(v * c)
	}
	var sumB, wB, best float64
	t := 0
	for v, c := range hist {
		wB += float64(c)
		if wB == 0 {
			continue
		}
		wF := float64(n) - wB
		if wF == 0 {
			break
		}
		sumB += float64(v * c)
		mB := sumB / wB
		mF := (total - sumB) / wF
		if between := wB * wF * (mB - mF) * (mB - mF); between > best {
			best, t = between, v
		}
	}
	return t
}
