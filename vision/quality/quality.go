package quality

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Reason names why a frame was refused; OK is the empty reason.
type Reason string

// The reasons Check reports, in the order it tests them.
const (
	OK        Reason = ""
	NoPalm    Reason = "no_palm"
	TooDark   Reason = "too_dark"
	TooBright Reason = "too_bright"
	TooFar    Reason = "too_far"
	TooClose  Reason = "too_close"
	OffCentre Reason = "off_centre"
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
	Area       float64 // palm area as a fraction of the frame
	Offset     float64 // palm centre from frame centre, fraction of the half-diagonal
	Border     float64 // fraction of the frame edge covered by palm
	Motion     float64 // palm centre shift since the previous frame, fraction of frame width; -1 on the first frame
	Focus      float64 // mean squared Laplacian of the palm centre at full resolution
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
	minContrast   = 20.0
	minBrightness = 70.0
	maxSaturation = 0.10
	minArea       = 0.10
	maxArea       = 0.55
	maxOffset     = 0.25
	maxBorder     = 0.06
	maxMotion     = 0.01
	minFocus      = 40.0
)

const (
	workWidth = 320 // width of the downscaled copy the gate measures on
	saturated = 250 // grey level counted as saturated
	focusHalf = 96  // half side of the full-resolution focus patch
)

// Gate checks lit frames one by one. It keeps the previous frame's palm
// position to measure motion, so use one Gate per camera and Reset it at
// the start of each session. A Gate is not safe for concurrent use.
type Gate struct {
	full, small gocv.Mat // copy of the frame, downscaled copy
	fullPix     []byte   // full's pixels (OpenCV memory)
	smallPix    []byte
	size        image.Point // frame size the Mats are allocated for
	prev        point       // previous palm centre in small pixels
	hasPrev     bool
}

// NewGate returns a Gate with buffers for synth.Width x synth.Height frames;
// frames of another size reallocate them once.
func NewGate() *Gate {
	g := &Gate{}
	g.alloc(image.Pt(1280, 800))
	return g
}

func (g *Gate) alloc(size image.Point) {
	g.free()
	sw := workWidth
	sh := max(1, size.Y*workWidth/max(1, size.X))
	g.full = gocv.NewMatWithSize(size.Y, size.X, gocv.MatTypeCV8U)
	g.small = gocv.NewMatWithSize(sh, sw, gocv.MatTypeCV8U)
	g.fullPix, _ = g.full.DataPtrUint8()
	g.smallPix, _ = g.small.DataPtrUint8()
	g.size = size
	g.hasPrev = false
}

func (g *Gate) free() {
	if g.size == (image.Point{}) {
		return
	}
	clear(g.fullPix)
	clear(g.smallPix)
	g.full.Close()
	g.small.Close()
	g.fullPix, g.smallPix = nil, nil
	g.size = image.Point{}
}

// Reset forgets the previous frame; call it when a new session starts.
func (g *Gate) Reset() {
	g.hasPrev = false
	clear(g.smallPix)
}

// Close frees the gate's buffers after zeroing them.
func (g *Gate) Close() error {
	g.free()
	return nil
}

// Check measures one lit frame and decides whether it is good enough for
// liveness and matching. The first frame after NewGate or Reset is never OK:
// motion needs two frames.
func (g *Gate) Check(frame *image.Gray) Verdict {
	b := frame.Bounds()
	if b.Empty() {
		return verdict(NoPalm, Scores{Motion: -1})
	}
	if b.Size() != g.size {
		g.alloc(b.Size())
	}
	w := b.Dx()
	for y := range b.Dy() {
		off := frame.PixOffset(b.Min.X, b.Min.Y+y)
		copy(g.fullPix[y*w:(y+1)*w], frame.Pix[off:off+w])
	}
	gocv.Resize(g.full, &g.small, image.Pt(g.small.Cols(), g.small.Rows()), 0, 0, gocv.InterpolationArea)
	clear(g.fullPix)

	s, centre, ok := g.measure()
	if !ok {
		g.hasPrev = false
		return verdict(NoPalm, s)
	}
	s.Motion = -1
	if g.hasPrev {
		s.Motion = math.Hypot(centre.X-g.prev.X, centre.Y-g.prev.Y) / float64(g.small.Cols())
	}
	g.prev, g.hasPrev = centre, true
	s.Focus = focus(frame, image.Pt(
		b.Min.X+int(centre.X*float64(w)/float64(g.small.Cols())),
		b.Min.Y+int(centre.Y*float64(b.Dy())/float64(g.small.Rows()))))
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
	case s.Saturation > maxSaturation:
		return TooBright
	case s.Brightness < minBrightness:
		return TooDark
	case s.Area > maxArea:
		return TooClose
	case s.Area < minArea:
		return TooFar
	case s.Offset > maxOffset || s.Border > maxBorder:
		return OffCentre
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

	cols, rows := g.small.Cols(), g.small.Rows()
	var cx, cy, edge int
	tb := uint8(t)
	for y := range rows {
		row := g.smallPix[y*cols : (y+1)*cols]
		onEdgeRow := y == 0 || y == rows-1
		for x, v := range row {
			if v > tb {
				cx += x
				cy += y
				if onEdgeRow || x == 0 || x == cols-1 {
					edge++
				}
			}
		}
	}
	c := point{float64(cx)/float64(nf) + 0.5, float64(cy)/float64(nf) + 0.5}
	dx := c.X - float64(cols)/2
	dy := c.Y - float64(rows)/2
	s.Offset = math.Hypot(dx, dy) / math.Hypot(float64(cols)/2, float64(rows)/2)
	s.Border = float64(edge) / float64(2*(cols+rows)-4)
	return s, c, true
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

// focus is the mean squared 4-neighbour Laplacian of a patch of frame at
// full resolution centred on c (clipped to the frame).
func focus(frame *image.Gray, c image.Point) float64 {
	r := image.Rect(c.X-focusHalf, c.Y-focusHalf, c.X+focusHalf, c.Y+focusHalf).
		Intersect(frame.Bounds().Inset(1))
	if r.Empty() {
		return 0
	}
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := frame.PixOffset(r.Min.X, y)
		up, down := frame.Pix[i-frame.Stride:], frame.Pix[i+frame.Stride:]
		row := frame.Pix[i-1:]
		for x := range r.Dx() {
			l := int(up[x]) + int(down[x]) + int(row[x]) + int(row[x+2]) - 4*int(row[x+1])
			sum += float64(l * l)
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}
