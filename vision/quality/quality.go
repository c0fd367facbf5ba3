package quality

import (
	"image"
	"math"

	"github.com/palmd/palmd/vision/internal/downscale"
	"github.com/palmd/palmd/vision/internal/workspace"
)

// Reason names why a frame was refused; OK is the empty reason.
type Reason string

// The reasons Check reports, in declaration order; the order Check tests
// them in is in the package documentation (Thresholds).
const (
	OK        Reason = ""
	NoPalm    Reason = "no_palm"
	TooClose  Reason = "too_close"
	TooBright Reason = "too_bright"
	Glare     Reason = "glare"
	TooDark   Reason = "too_dark"
	OffCentre Reason = "off_centre"
	TooFar    Reason = "too_far"
	Moving    Reason = "moving"
	Blurred   Reason = "blurred"
)

// NumReasons is the number of Reasons, OK included.
const NumReasons = 10

// Reasons returns every Reason, OK first, in declaration order (the order
// Check tests them in is in the package documentation): reports, screens
// and tests range over it rather than over a list of their own
// (TestReasonsListsEveryReason).
func Reasons() [NumReasons]Reason {
	return [...]Reason{OK, NoPalm, TooClose, TooBright, Glare, TooDark, OffCentre, TooFar, Moving, Blurred}
}

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
	case Glare:
		return "Hold your palm flat, a little higher"
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
	Glare      float64 // share of those the LEDs took there (the room light alone under half of it); -1 without an unlit frame
	Area       float64 // hand (palm class) area as a fraction of the frame
	Offset     float64 // palm disc centre from frame centre, fraction of the half-diagonal
	OffsetX    float64 // the same centre's horizontal offset, fraction of the half-width: -1 left edge, +1 right
	OffsetY    float64 // its vertical offset, fraction of the half-height: -1 top edge, +1 bottom
	Radius     float64 // radius of the largest disc inside the hand (the palm), fraction of frame width
	Motion     float64 // hand centroid shift since the previous frame, fraction of frame width; -1 on the first frame: names a blur's cause (Moving rather than Blurred), refuses nothing
	Focus      float64 // 10^4 x mean squared Laplacian / mean^2 inside the palm disc, at a spacing of 1 small pixel (2 for a disc of radius 120 or more)
	DistanceMM float64 // camera to palm: the presence sensor's reading, or estimated from the palm's size
	PalmMM     float64 // palm width from its size in pixels and DistanceMM; 0 when DistanceMM is estimated
}

// NotPalmSized reports whether the palm's width, from its size in the
// frame at the presence sensor's distance, is outside a human palm's (40 to
// 120 mm): what the camera takes for a palm there is no hand. It is false
// when the distance was not measured.
func (s Scores) NotPalmSized() bool {
	return s.PalmMM > 0 && (s.PalmMM < minPalmMM || s.PalmMM > maxPalmMM)
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
	minFocus      = 6.5
	minShift      = 0.008 // a blurred palm that moved more since the previous frame is a moving one
)

// The capture volume and the optics that turn pixels into millimetres: the
// kiosk camera (vision/synth documents it) has a 2.5 mm lens on 3 um
// pixels, a focal length of 836 pixels at 1280 x 800.
const (
	// FocalPx is the lens's focal length in pixels of a 1280-wide frame.
	FocalPx = 836.0
	// NearMM and FarMM bound the distances the gate accepts: nearer, an
	// adult palm does not fit the frame; farther, the LEDs cannot light
	// it and the palm region has too few pixels.
	NearMM = 70.0
	FarMM  = 260.0
	// minPalmPx is the least palm width, in pixels of a 1280-wide frame,
	// that gives the 128 x 128 palm region its detail.
	minPalmPx = 180.0
	// refPalmMM is the palm width assumed when no distance is given.
	refPalmMM = 84.0
	// minPalmMM and maxPalmMM bound a human palm's width (a small child's
	// to a large adult's); a "palm" outside them at the measured distance
	// is not a hand there (a scaled print, a picture on a phone).
	minPalmMM = 40.0
	maxPalmMM = 120.0
	// discToWidth is the inscribed disc's radius over the palm width on
	// the tuning set.
	discToWidth = 0.54
)

const (
	workWidth = 320 // width of the downscaled copy the gate measures on
	saturated = 250 // grey level counted as saturated
)

// Gate checks lit frames one by one. It keeps the previous frame's palm
// position to measure motion, so use one Gate per camera and Reset it at
// the start of each session. A Gate is not safe for concurrent use.
type Gate struct {
	space    *workspace.Space      // where the buffers made of frames live
	ds       *downscale.Downscaler // the lit frame's copy
	dsUnlit  *downscale.Downscaler // the unlit frame's copy
	small    image.Point           // size of the downscaled copy
	smallPix []byte                // the downscaled lit frame (OpenCV memory)
	segPix   []byte                // what is segmented: the LED response, or smallPix
	resp     []byte                // the LED response, lit - unlit, per small pixel
	dist     []int32               // chamfer distance to the background, per small pixel
	prev     point                 // previous palm centre in small pixels
	hasPrev  bool
}

// NewGate returns a Gate whose buffers come from the Go heap and OpenCV's
// allocator: NewGateIn(nil).
func NewGate() *Gate { return NewGateIn(nil) }

// NewGateIn returns a Gate whose buffers made of frames (the downscaled
// copies, the LED response, the distance map) live in mem: WorkspaceSize
// bytes for 1280 x 800 frames, outside the Go heap and 64-byte aligned
// (uplink/secmem's locked memory in the kiosk), or nil for the heap. mem
// must outlive the Gate. Frames of another size lay the buffers out
// again, once; what does not fit comes from the heap.
func NewGateIn(mem []byte) *Gate {
	g := &Gate{space: workspace.New(mem)}
	g.layout(image.Pt(1280, 800))
	return g
}

// WorkspaceSize is the memory NewGateIn needs for frames of size.
func WorkspaceSize(frame image.Point) int {
	g := Gate{space: workspace.Measure()}
	g.layout(frame)
	return g.space.Need()
}

// layout takes the buffers for frames of size from the workspace, after
// zeroing and freeing those it had.
func (g *Gate) layout(size image.Point) {
	g.free()
	g.space.Reset()
	g.ds = downscale.New(g.space, size, workWidth)
	g.dsUnlit = downscale.New(g.space, size, workWidth)
	g.small = g.ds.Small()
	g.dist = workspace.Slice[int32](g.space, g.small.X*g.small.Y)
	g.resp = workspace.Slice[uint8](g.space, g.small.X*g.small.Y)
	g.hasPrev = false
}

// free zeroes and frees the buffers layout took.
func (g *Gate) free() {
	if g.ds == nil {
		return
	}
	clear(g.dist)
	clear(g.resp)
	g.ds.Close()
	g.dsUnlit.Close()
	g.ds, g.dsUnlit, g.dist, g.resp = nil, nil, nil, nil
}

// Reset forgets the previous frame; call it when a new session starts.
func (g *Gate) Reset() { g.hasPrev = false }

// Close zeroes and frees the gate's buffers; its workspace may then be
// released.
func (g *Gate) Close() error {
	g.free()
	g.space.Release()
	return nil
}

// Check measures one lit frame and decides whether it is good enough for
// liveness and matching, with no unlit frame and the distance estimated
// from the palm's size: CheckAt(frame, nil, 0).
func (g *Gate) Check(frame *image.Gray) Verdict { return g.CheckAt(frame, nil, 0) }

// CheckAt measures one lit frame taken with the presence sensor reading
// distanceMM (0 or less: unknown) and decides whether it is good enough for
// liveness and matching. unlit, when not nil, is a frame of the same size
// taken with the LEDs off just before or after: the palm is then segmented
// on the LED response (lit - unlit), which a sunlit room or a bright
// ceiling behind the hand does not have, since the LEDs' light falls with
// distance squared. Motion is judged by its effect, blur within the
// exposure; the shift since the previous frame only tells a moving palm's
// blur from a defocused one's.
func (g *Gate) CheckAt(lit, unlit *image.Gray, distanceMM int) Verdict {
	b := lit.Bounds()
	if b.Empty() {
		return verdict(NoPalm, Scores{Motion: -1})
	}
	if b.Size() != g.ds.Size() {
		g.layout(b.Size())
	}
	m := g.ds.Do(lit)
	g.smallPix, _ = m.DataPtrUint8()
	g.segPix = g.smallPix
	hasUnlit := unlit != nil && unlit.Bounds().Size() == b.Size()
	if hasUnlit {
		u := g.dsUnlit.Do(unlit)
		up, _ := u.DataPtrUint8()
		up, resp := up[:len(g.smallPix)], g.resp[:len(g.smallPix)]
		for i, v := range g.smallPix {
			resp[i] = v - min(v, up[i])
		}
		g.segPix = g.resp
	}
	s, centre, ok := g.measure(float64(b.Dx()), float64(distanceMM), hasUnlit)
	g.smallPix, g.segPix = nil, nil
	g.ds.Clear()
	g.dsUnlit.Clear()
	clear(g.dist)
	clear(g.resp)
	if !ok {
		g.hasPrev = false
		if s.Saturation > maxSaturation {
			return verdict(TooBright, s)
		}
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
	case s.Saturation > maxSaturation && s.Glare <= 0.5:
		return TooBright
	case s.Saturation > maxSaturation:
		return Glare
	case s.Contrast < minContrast:
		return NoPalm
	case s.Brightness < minBrightness:
		return TooDark
	case s.Area > maxArea:
		return TooClose
	case s.Offset > maxOffset:
		return OffCentre
	case s.DistanceMM < NearMM:
		return TooClose
	case s.DistanceMM > FarMM || s.Radius*1280/discToWidth < minPalmPx:
		return TooFar
	case s.NotPalmSized():
		return NoPalm
	case s.Focus < minFocus && s.Motion > minShift:
		return Moving
	case s.Focus < minFocus:
		return Blurred
	}
	return OK
}

type point struct{ X, Y float64 }

// measure segments the palm on segPix with Otsu's threshold and measures
// it: brightness and saturation on the lit frame, contrast on what was
// segmented. hasUnlit says segPix is the LED response, so that the room's
// light at a pixel is the lit level minus it. ok is false when there is
// nothing to segment.
func (g *Gate) measure(frameW, distanceMM float64, hasUnlit bool) (Scores, point, bool) {
	hist := histogram(g.segPix)
	n := len(g.segPix)
	t := otsu(&hist, n)
	tb := uint8(t)
	// The classes' counts and sums of what was segmented come from the
	// histogram; the pixels are walked for the palm class's lit level,
	// saturation and centroid only.
	var nb, nf, sb, sf int
	for v, c := range hist {
		if v <= t {
			nb, sb = nb+c, sb+v*c
		} else {
			nf, sf = nf+c, sf+v*c
		}
	}
	s := Scores{Motion: -1, Glare: -1}
	if nf == 0 || nb == 0 {
		// One class only: an empty scanner, or one flooded with light.
		var lall, satAll int
		for _, l := range g.smallPix {
			lall += int(l)
			if l >= saturated {
				satAll++
			}
		}
		s.Brightness = float64(lall) / float64(n)
		s.Saturation = float64(satAll) / float64(n)
		return s, point{}, false
	}
	var lf, sat, satLED, cx, cy int
	cols, rows := g.small.X, g.small.Y
	for y := range rows {
		seg, lit := g.segPix[y*cols:(y+1)*cols], g.smallPix[y*cols:(y+1)*cols]
		lit = lit[:len(seg)]
		inRow := 0
		for x, v := range seg {
			if v <= tb {
				continue
			}
			l := lit[x]
			lf += int(l)
			cx += x
			inRow++
			if l >= saturated {
				sat++
				if hasUnlit && 2*(int(l)-int(v)) < saturated {
					satLED++
				}
			}
		}
		cy += y * inRow
	}
	s.Brightness = float64(lf) / float64(nf)
	s.Contrast = float64(sf)/float64(nf) - float64(sb)/float64(nb)
	s.Saturation = float64(sat) / float64(nf)
	if hasUnlit {
		s.Glare = float64(satLED) / float64(max(sat, 1))
	}
	s.Area = float64(nf) / float64(n)
	c := point{float64(cx)/float64(nf) + 0.5, float64(cy)/float64(nf) + 0.5}

	// The palm is the thickest part of the hand: the centre and radius of
	// the largest disc inside the mask ignore fingers and forearm.
	pc, r := g.inscribed(tb)
	dx := pc.X - float64(cols)/2
	dy := pc.Y - float64(rows)/2
	s.Offset = math.Hypot(dx, dy) / math.Hypot(float64(cols)/2, float64(rows)/2)
	s.OffsetX, s.OffsetY = dx/(float64(cols)/2), dy/(float64(rows)/2)
	s.Radius = r / float64(cols)
	// Palm width in frame pixels of a 1280-wide frame, then millimetres.
	palmPx := s.Radius * 1280 / discToWidth
	if distanceMM > 0 {
		s.DistanceMM = distanceMM
		s.PalmMM = palmPx * distanceMM / FocalPx
	} else if palmPx > 0 {
		s.DistanceMM = FocalPx * refPalmMM / palmPx
	}
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
	d, seg := g.dist[:cols*rows], g.segPix[:cols*rows]
	// Forward pass, from the row above and the left; left carries the
	// pixel just set.
	for y := range rows {
		row, in := d[y*cols:(y+1)*cols], seg[y*cols:(y+1)*cols]
		var up []int32
		if y > 0 {
			up = d[(y-1)*cols : y*cols]
		}
		left := int32(0)
		for x, p := range in {
			if p <= t {
				row[x], left = 0, 0
				continue
			}
			v := int32(chamferAxis)
			if x > 0 && up != nil {
				v = min(left+chamferAxis, up[x]+chamferAxis, up[x-1]+chamferDiag)
				if x < cols-1 {
					v = min(v, up[x+1]+chamferDiag)
				}
			}
			row[x], left = v, v
		}
	}
	// Backward pass, from the row below and the right.
	best, bi := int32(0), 0
	for y := rows - 1; y >= 0; y-- {
		row := d[y*cols : (y+1)*cols]
		var down []int32
		if y < rows-1 {
			down = d[(y+1)*cols : (y+2)*cols]
		}
		right := int32(0)
		for x := cols - 1; x >= 0; x-- {
			v := row[x]
			if v == 0 {
				right = 0
				continue
			}
			if x == cols-1 || down == nil {
				v = chamferAxis
			} else {
				v = min(v, right+chamferAxis, down[x]+chamferAxis, down[x+1]+chamferDiag)
				if x > 0 {
					v = min(v, down[x-1]+chamferDiag)
				}
			}
			row[x], right = v, v
			if v > best {
				best, bi = v, y*cols+x
			}
		}
	}
	return point{float64(bi%cols) + 0.5, float64(bi/cols) + 0.5}, float64(best) / chamferAxis
}

// focus is the mean squared 4-neighbour Laplacian over a square inside the
// palm disc (centre c, radius r in small pixels), divided by the squared
// mean grey level so that it does not depend on exposure (x 10^4). The
// Laplacian's spacing is r/80 rounded, at least 1 small pixel: 1 below a
// radius of 120 and 2 from there (a 320-wide copy holds no disc of radius
// over 160), so that a near palm, whose creases span more pixels, is not
// called blurred. The 320 x 200 copy of the kiosk's 1280 x 800 (or 640 x
// 400) frames holds no disc of radius over 100, so there the spacing is
// always 1; it can grow only on frames at least three quarters as tall as
// wide, such as square ones from other sets.
func (g *Gate) focus(c point, r float64) float64 {
	cols, rows := g.small.X, g.small.Y
	k := max(1, int(r/80+0.5))
	h := int(r * 0.6)
	x0, y0 := max(k, int(c.X)-h), max(k, int(c.Y)-h)
	x1, y1 := min(cols-k, int(c.X)+h), min(rows-k, int(c.Y)+h)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	var sum, mean float64
	p := g.smallPix
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			i := y*cols + x
			l := int(p[i-k*cols]) + int(p[i+k*cols]) + int(p[i-k]) + int(p[i+k]) - 4*int(p[i])
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
// histogram counts the values of p. It keeps four partial counts, so that
// a run of one value (a frame's background) does not wait on each
// increment of the same counter.
func histogram(p []uint8) [256]int {
	var part [4][256]int
	i := 0
	for ; i+4 <= len(p); i += 4 {
		part[0][p[i]]++
		part[1][p[i+1]]++
		part[2][p[i+2]]++
		part[3][p[i+3]]++
	}
	for ; i < len(p); i++ {
		part[0][p[i]]++
	}
	var hist [256]int
	for v := range hist {
		hist[v] = part[0][v] + part[1][v] + part[2][v] + part[3][v]
	}
	return hist
}

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
