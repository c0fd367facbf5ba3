package roi

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/palmd/palmd/vision/internal/downscale"
	"github.com/palmd/palmd/vision/internal/workspace"
	"gocv.io/x/gocv"
)

// Size is the side of the square palm region Extract writes.
const Size = 128

// ErrNotFound reports a frame with no whole hand in it.
var ErrNotFound = errors.New("roi: palm not found")

// ErrSize reports a destination that is not Size x Size.
var ErrSize = errors.New("roi: destination is not 128x128")

const (
	scale       = 2    // the hand is segmented on a 1/scale copy of the frame
	minArea     = 0.03 // smallest hand, as a fraction of the frame
	minContrast = 12.0 // grey levels between hand and background means
	// A finger valley is a convexity defect between minReach*r and
	// maxReach*r from the palm centre, r being the radius of the palm's
	// inscribed circle. Within the frame it is at least minDepth*r deep, its
	// sides (armLen*r long) open by at most maxGap and both rise at least
	// minRise*r farther from the palm. Where the gap runs out of the frame,
	// minOpen pixels of depth suffice.
	minDepth = 0.1
	minOpen  = 3
	minReach = 0.7
	maxReach = 2.0
	minRise  = 0.3
	maxGap   = 50 * math.Pi / 180
	armLen   = 0.3
	// The valleys between the four fingers span at most maxSpan around the
	// palm centre, are spaced evenly within maxUneven, and the middle one is
	// between minBow*d and maxBow*d towards the fingers from the line through
	// the outer two, d apart (the middle finger's base is the highest); the
	// line's normal points within maxTilt of the palm centre's direction,
	// and the palm centre projects onto the line within maxOffCentre*d of
	// its middle. Two
	// valleys are between minPair*r and maxPair*r apart: neighbours below
	// outerPair*r, the outer two (a gap between touching fingers unseen)
	// above.
	maxSpan      = 100 * math.Pi / 180
	maxUneven    = 2.0
	minBow       = -0.08
	maxBow       = 0.25
	maxTilt      = 25 * math.Pi / 180
	maxOffCentre = 0.25
	minPair      = 0.25
	outerPair    = 0.62
	maxPair      = 1.2
	// The region has side sideR*r and is centred offD*d from the outer
	// valleys' midpoint towards the wrist; with fewer valleys, on the palm
	// centre.
	sideR = 1.25
	offD  = 1.05
	// The palm must lie in the frame: a square of side inside*side around
	// the region.
	inside = 1.2
	// A further frame of a burst in which the hand moved by more than
	// maxDrift pixels of the 2*Size region (about 3 mm of palm) against
	// the first frame is left out of the average: the hand moved, or the
	// registration found no match.
	maxDrift = 16.0
	// Two frames' regions agree (ExtractBurst's placement) when their
	// centres are within agreeShift of the side, their sides within
	// agreeSide and their directions within agreeTurn: beyond maxDrift's
	// tremor (1/16 of the side) and the few pixels by which the valleys of
	// one hand move from frame to frame, and well short of a region placed
	// on other landmarks (a quarter of the side and more away).
	agreeShift = 0.1
	agreeSide  = 0.1
	agreeTurn  = 6 * math.Pi / 180
	// The region's shading (the palm's relief under the LEDs, their
	// fall-off) is its Gaussian blur of shadeSigma region pixels, about
	// 3.5 mm of an adult palm (8 mm at half height): twice as wide as the
	// widest vein, whose darkening therefore stays.
	shadeSigma = 10.0
	// A frame's shift is measured on a copy 1/regScale of its size.
	regScale = 2 * scale
)

// Extractor finds the palm in lit frames and cuts out a normalised region.
// It holds OpenCV buffers reused from one frame to the next; it is not safe
// for concurrent use. Close frees the buffers.
type Extractor struct {
	space *workspace.Space // where the buffers made of frames live
	size  image.Point      // frame size they are laid out for

	frame  gocv.Mat // the lit frame, copied in
	small  gocv.Mat // what is segmented at 1/scale, blurred: the LED response, or the lit frame
	unlit  gocv.Mat // the unlit frame at 1/scale
	bin    gocv.Mat // hand mask at 1/scale
	dist   gocv.Mat // distance to the background
	labels gocv.Mat // distance transform labels (required by gocv, unused)
	big    gocv.Mat // the region at 2*Size, before area downsampling
	out    gocv.Mat // the region at Size

	// Averaging a burst's frames (ExtractBurst).
	half  gocv.Mat // the small copy at half its size, 8-bit
	ref   gocv.Mat // the reference frame's coarse copy, CV32F
	cur   gocv.Mat // a further frame's coarse copy, CV32F
	cut32 gocv.Mat // one frame's region at 2*Size, CV32F
	sum   gocv.Mat // the regions added up, CV32F

	// Not made of frames.
	kernel gocv.Mat // morphology element
	hull   gocv.Mat // convex hull indices
	affine gocv.Mat // region-to-frame map
	window gocv.Mat // Hann window of the coarse copy's size
	none   gocv.Mat // empty: no window (see coarse)

	// Go-side scratch reused from one frame to the next.
	pts     []image.Point
	hullIdx []int
	valleys []point
	placed  []placed
}

// placed is where the palm was placed in lit frame i of a burst.
type placed struct {
	i  int
	sq square
}

// NewExtractor returns an Extractor whose buffers come from OpenCV's
// allocator: NewExtractorIn(nil).
func NewExtractor() *Extractor { return NewExtractorIn(nil) }

// NewExtractorIn returns an Extractor whose buffers made of frames (the
// frame's copy, the small copies and mask, the regions) live in mem:
// WorkspaceSize bytes for 1280 x 800 frames, outside the Go heap and
// 64-byte aligned (uplink/secmem's locked memory in the kiosk), or nil for
// OpenCV's heap. mem must outlive the Extractor. Frames of another size
// lay the buffers out again, once; what does not fit comes from the heap.
func NewExtractorIn(mem []byte) *Extractor {
	e := &Extractor{
		space:  workspace.New(mem),
		kernel: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(5, 5)),
		hull:   gocv.NewMat(),
		affine: gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F),
		window: gocv.NewMat(),
		none:   gocv.NewMat(),
	}
	e.layout(image.Pt(1280, 800))
	return e
}

// WorkspaceSize is the memory NewExtractorIn needs for frames of size.
func WorkspaceSize(frame image.Point) int {
	e := Extractor{space: workspace.Measure()}
	e.layout(frame)
	return e.space.Need()
}

// layout takes the buffers for frames of size from the workspace, after
// zeroing and freeing those it had: each the size and type the OpenCV
// calls writing it give it, so that none reallocates.
func (e *Extractor) layout(size image.Point) {
	e.free()
	e.space.Reset()
	e.size = size
	w, h := size.X/scale, size.Y/scale
	s := e.space
	e.frame = s.Mat(size.Y, size.X, gocv.MatTypeCV8U)
	e.small, e.unlit, e.bin = s.Mat(h, w, gocv.MatTypeCV8U), s.Mat(h, w, gocv.MatTypeCV8U), s.Mat(h, w, gocv.MatTypeCV8U)
	e.dist, e.labels = s.Mat(h, w, gocv.MatTypeCV32F), s.Mat(h, w, gocv.MatTypeCV32S)
	e.half = s.Mat(h/2, w/2, gocv.MatTypeCV8U)
	e.ref, e.cur = s.Mat(h/2, w/2, gocv.MatTypeCV32F), s.Mat(h/2, w/2, gocv.MatTypeCV32F)
	e.big, e.out = s.Mat(2*Size, 2*Size, gocv.MatTypeCV8U), s.Mat(Size, Size, gocv.MatTypeCV8U)
	e.cut32, e.sum = s.Mat(2*Size, 2*Size, gocv.MatTypeCV32F), s.Mat(2*Size, 2*Size, gocv.MatTypeCV32F)
}

// frameMats lists the buffers layout takes.
func (e *Extractor) frameMats() []*gocv.Mat {
	return []*gocv.Mat{&e.frame, &e.small, &e.unlit, &e.bin, &e.dist, &e.labels, &e.half, &e.ref, &e.cur, &e.big, &e.out, &e.cut32, &e.sum}
}

// free zeroes and closes the buffers layout took.
func (e *Extractor) free() {
	if e.size == (image.Point{}) {
		return
	}
	for _, m := range e.frameMats() {
		m.SetTo(gocv.Scalar{})
		m.Close()
	}
	e.size = image.Point{}
}

// hann makes m a w x h Hann window (CV32F), unless it is one already:
// the phase correlation's inputs taper to zero at the frame's edges, which
// the transform would otherwise see as a step.
func hann(m *gocv.Mat, w, h int) {
	if m.Cols() == w && m.Rows() == h {
		return
	}
	m.Close()
	*m = gocv.NewMatWithSize(h, w, gocv.MatTypeCV32F)
	p, _ := m.DataPtrFloat32()
	for y := range h {
		wy := 0.5 - 0.5*math.Cos(2*math.Pi*float64(y)/float64(h-1))
		for x := range w {
			p[y*w+x] = float32(wy * (0.5 - 0.5*math.Cos(2*math.Pi*float64(x)/float64(w-1))))
		}
	}
}

// Close zeroes and frees the Extractor's buffers; its workspace may then
// be released.
func (e *Extractor) Close() error {
	e.free()
	e.space.Release()
	var errs []error
	for _, m := range []*gocv.Mat{&e.kernel, &e.hull, &e.affine, &e.window, &e.none} {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// Extract finds the palm in a lit frame and writes the Size x Size palm
// region to dst: rotated so the fingers point up, scaled to the hand. unlit,
// when not nil, is a frame of the same size taken with the LEDs off: the
// hand is then found on the LED response (lit - unlit), which a sunlit
// background does not have, as in vision/quality; the region is cut from
// lit either way. It returns ErrNotFound when no whole hand is in the
// frame. The Extractor's copies of the frames are zeroed before it returns.
func (e *Extractor) Extract(lit, unlit, dst *image.Gray) error {
	return e.ExtractBurst([]*image.Gray{lit}, unlit, dst)
}

// ExtractBurst is Extract over several lit frames of one burst: the palm is
// placed where most of the frames place it (see place); in every other
// frame the hand's shift against that one is measured (phase correlation of
// the copies the hand is segmented on, sub-pixel: the hand trembles by a
// few pixels between frames) and the region cut at the palm's shifted
// place; the regions are averaged. n frames lower the sensor's noise in the
// region by about sqrt(n); the frames may be lit by different LED banks
// (the matcher reads the lines' orientation, not the shading). A frame of
// another size, or whose hand moved by more than maxDrift, is left out.
func (e *Extractor) ExtractBurst(lit []*image.Gray, unlit, dst *image.Gray) error {
	if dst.Bounds().Dx() != Size || dst.Bounds().Dy() != Size {
		return fmt.Errorf("%w: got %v", ErrSize, dst.Bounds().Size())
	}
	if len(lit) == 0 {
		return fmt.Errorf("%w: no lit frame", ErrNotFound)
	}
	defer e.wipe()
	ref, sq, err := e.place(lit, unlit)
	if err != nil {
		return err
	}
	e.cut(sq)
	e.big.ConvertTo(&e.sum, gocv.MatTypeCV32F)
	n := 1
	if len(lit) > 1 {
		if n, err = e.average(sq, ref, lit, unlit); err != nil {
			return err
		}
	}
	e.sum.MultiplyFloat(1 / float32(n))
	e.flatten()
	gocv.Resize(e.big, &e.out, image.Pt(Size, Size), 0, 0, gocv.InterpolationArea)
	return e.store(dst)
}

// flatten writes to big the region in sum without its shading: sum minus
// its Gaussian blur of shadeSigma, plus its mean level. Even filters answer
// the curvature of smooth light as they answer a line, and palms curve
// alike: left in, shading makes strangers' regions agree where their
// veins are faint.
func (e *Extractor) flatten() {
	gocv.GaussianBlur(e.sum, &e.cut32, image.Pt(0, 0), 2*shadeSigma, 2*shadeSigma, gocv.BorderReflect)
	mean := e.sum.Mean().Val1
	gocv.Subtract(e.sum, e.cut32, &e.sum)
	e.sum.AddFloat(float32(mean))
	e.sum.ConvertTo(&e.big, gocv.MatTypeCV8U)
}

// place locates the palm in each of the burst's lit frames and returns
// the frame whose region agrees with the most others' (see agrees; the
// one placed by more landmarks, then the earliest, of equals), loaded.
// The valleys are read off a noisy outline: one frame of a burst can miss
// a valley that the others show, or read another set of valleys as the
// fingers', and a region placed that way falls on another patch of the
// same palm. Where most frames of the burst place it is where the hand's
// outline says it is.
func (e *Extractor) place(lit []*image.Gray, unlit *image.Gray) (int, square, error) {
	e.placed = e.placed[:0]
	loaded, first := -1, error(nil)
	for i, f := range lit {
		if f.Bounds().Size() != lit[0].Bounds().Size() {
			continue
		}
		err := e.load(f, unlit)
		loaded = i
		var sq square
		if err == nil {
			sq, err = e.locate()
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		e.placed = append(e.placed, placed{i, sq})
	}
	if len(e.placed) == 0 {
		return 0, square{}, first
	}
	best, votes := 0, 0
	for k, a := range e.placed {
		n := 0
		for _, b := range e.placed {
			if a.sq.agrees(b.sq) {
				n++
			}
		}
		if n > votes || n == votes && a.sq.by < e.placed[best].sq.by {
			best, votes = k, n
		}
	}
	p := e.placed[best]
	if loaded != p.i {
		if err := e.load(lit[p.i], unlit); err != nil {
			return 0, square{}, err
		}
	}
	return p.i, p.sq, nil
}

// agrees reports whether regions a and b cover the same patch of palm, up
// to the hand's tremor between frames and the outline's noise: centres
// within agreeShift of the side, sides within agreeSide of each other and
// directions within agreeTurn.
func (a square) agrees(b square) bool {
	return math.Hypot(a.cx-b.cx, a.cy-b.cy) <= agreeShift*a.side &&
		math.Abs(a.side-b.side) <= agreeSide*a.side &&
		a.ux*b.ux+a.uy*b.uy >= math.Cos(agreeTurn)
}

// average adds to the region in sum, cut from lit[ref] at sq (its frame
// loaded), the regions of the other frames cut where the hand moved, and
// returns how many were added up.
func (e *Extractor) average(sq square, ref int, lit []*image.Gray, unlit *image.Gray) (int, error) {
	e.coarse(&e.ref)
	n := 1
	for i, f := range lit {
		if i == ref || f.Bounds().Size() != lit[ref].Bounds().Size() {
			continue
		}
		if err := e.load(f, unlit); err != nil {
			return n, err
		}
		e.coarse(&e.cur)
		d, _ := gocv.PhaseCorrelate(e.ref, e.cur, e.none)
		dx, dy := regScale*float64(d.X), regScale*float64(d.Y)
		if math.Hypot(dx, dy) > maxDrift*sq.side/(2*Size) {
			continue
		}
		moved := sq
		moved.cx, moved.cy = sq.cx+dx, sq.cy+dy
		e.cut(moved)
		e.big.ConvertTo(&e.cut32, gocv.MatTypeCV32F)
		gocv.Add(e.sum, e.cut32, &e.sum)
		n++
	}
	return n, nil
}

// coarse writes to dst (CV32F) the small copy at half its size, Hann
// windowed: what a frame's shift is measured on. Half the small copy (a
// quarter of the frame) keeps the hand's outline and costs a quarter of
// the transform. The window is applied here rather than by
// PhaseCorrelate, which multiplies its inputs by it in place.
func (e *Extractor) coarse(dst *gocv.Mat) {
	gocv.Resize(e.small, &e.half, image.Pt(e.small.Cols()/2, e.small.Rows()/2), 0, 0, gocv.InterpolationArea)
	e.half.ConvertTo(dst, gocv.MatTypeCV32F)
	hann(&e.window, dst.Cols(), dst.Rows())
	gocv.Multiply(*dst, e.window, dst)
}

// load copies lit into the frame buffer and makes the small copy that is
// segmented: lit's, minus unlit's when there is one.
func (e *Extractor) load(lit, unlit *image.Gray) error {
	w, h := lit.Bounds().Dx(), lit.Bounds().Dy()
	if w < 16*scale || h < 16*scale {
		return fmt.Errorf("%w: frame %dx%d too small", ErrNotFound, w, h)
	}
	if lit.Bounds().Size() != e.size {
		e.layout(lit.Bounds().Size())
	}
	pix, err := e.frame.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("roi: frame buffer: %w", err)
	}
	downscale.Copy(pix, lit)
	gocv.Resize(e.frame, &e.small, image.Pt(w/scale, h/scale), 0, 0, gocv.InterpolationArea)
	if unlit != nil && unlit.Bounds().Size() == lit.Bounds().Size() {
		// The unlit frame passes through the frame buffer, which lit then
		// fills again for the cut.
		downscale.Copy(pix, unlit)
		gocv.Resize(e.frame, &e.unlit, image.Pt(w/scale, h/scale), 0, 0, gocv.InterpolationArea)
		gocv.Subtract(e.small, e.unlit, &e.small) // saturates at 0
		downscale.Copy(pix, lit)
	}
	gocv.GaussianBlur(e.small, &e.small, image.Pt(5, 5), 0, 0, gocv.BorderReplicate)
	return nil
}

// wipe zeroes every buffer that held frame pixels or the hand's outline.
func (e *Extractor) wipe() {
	for _, m := range e.frameMats() {
		m.SetTo(gocv.Scalar{})
	}
	clear(e.pts)
	clear(e.valleys)
	clear(e.placed)
}

// fingerThreshold is where between the background's mean and Otsu's
// threshold the hand mask is cut.
const fingerThreshold = 0.5

// square is the palm region in frame coordinates: its centre, side, the
// unit vector from the wrist towards the fingers, and how it was placed.
type square struct {
	cx, cy, side float64
	ux, uy       float64
	by           placement
}

// placement is what a region was placed by, best first: the more of the
// hand's landmarks were found, the more surely the region falls on the
// same patch of palm from one capture to the next.
type placement int

const (
	byThreeValleys placement = iota // the three valleys between the four fingers
	byOuterPair                     // the outer two (a gap between touching fingers unseen)
	byNeighbours                    // two neighbouring valleys: rotation only, on the inscribed circle
	byAxis                          // no valleys: the hand's principal axis, on the inscribed circle
)

// locate segments the hand and places the palm region.
func (e *Extractor) locate() (square, error) {
	// Otsu's threshold splits the bright palm from the rest; fingers, dimmer
	// than the palm (their sides turn away from the LEDs), are kept by a
	// threshold part of the way down from it.
	t := gocv.Threshold(e.small, &e.bin, 0, 255, gocv.ThresholdBinary|gocv.ThresholdOtsu)
	// Part of the way down from Otsu's threshold to the background's mean
	// (a sunlit ceiling behind the hand is not black).
	px, _ := e.small.DataPtrUint8()
	var sum, n int
	for _, v := range px {
		if float32(v) <= t {
			sum += int(v)
			n++
		}
	}
	bg := float64(t)
	if n > 0 {
		bg = float64(sum) / float64(n)
	}
	gocv.Threshold(e.small, &e.bin, float32(bg+fingerThreshold*(float64(t)-bg)), 255, gocv.ThresholdBinary)
	gocv.MorphologyEx(e.bin, &e.bin, gocv.MorphOpen, e.kernel)
	if !e.contrasted() {
		return square{}, ErrNotFound
	}
	contours := gocv.FindContours(e.bin, gocv.RetrievalExternal, gocv.ChainApproxNone)
	defer contours.Close()
	best, bestArea := -1, 0.0
	for i := range contours.Size() {
		if a := gocv.ContourArea(contours.At(i)); a > bestArea {
			best, bestArea = i, a
		}
	}
	w, h := e.bin.Cols(), e.bin.Rows()
	if best < 0 || bestArea < minArea*float64(w*h) {
		return square{}, ErrNotFound
	}
	contour := contours.At(best)
	e.pts = e.pts[:0]
	for i := range contour.Size() {
		e.pts = append(e.pts, contour.At(i))
	}
	pts := e.pts

	// The palm is the hand's largest inscribed circle, the frame edge
	// counting as background.
	e.bin.SetTo(gocv.NewScalar(0, 0, 0, 0))
	gocv.DrawContours(&e.bin, contours, best, color.RGBA{255, 255, 255, 255}, -1)
	gocv.Rectangle(&e.bin, image.Rect(0, 0, w, h), color.RGBA{}, 1)
	gocv.DistanceTransform(e.bin, &e.dist, &e.labels, gocv.DistL2, gocv.DistanceTransformMasks(5), gocv.DistanceLabelCComp)
	_, r, _, c := gocv.MinMaxLoc(e.dist)
	palm := circle{float64(c.X), float64(c.Y), float64(r)}

	gocv.ConvexHull(contour, &e.hull, false, false)
	e.hullIdx = e.hullIdx[:0]
	for i := range e.hull.Rows() {
		e.hullIdx = append(e.hullIdx, int(e.hull.GetIntAt(i, 0)))
	}
	// Contour points on the frame edge count as hull points (see valleys).
	for i, p := range pts {
		if onEdge(p, w, h) {
			e.hullIdx = append(e.hullIdx, i)
		}
	}
	e.valleys = valleys(e.valleys[:0], pts, e.hullIdx, palm, w, h)
	sq, ok := fromValleys(palm, e.valleys)
	if !ok {
		sq, ok = e.fromPalm(palm)
	}
	if !ok || !inFrame(sq, w, h) {
		return square{}, ErrNotFound
	}
	sq.cx, sq.cy, sq.side = (sq.cx+0.5)*scale-0.5, (sq.cy+0.5)*scale-0.5, sq.side*scale
	return sq, nil
}

// contrasted reports whether the mask separates a bright object from a
// darker background, rather than splitting noise.
func (e *Extractor) contrasted() bool {
	img, err1 := e.small.DataPtrUint8()
	mask, err2 := e.bin.DataPtrUint8()
	if err1 != nil || err2 != nil {
		return false
	}
	var sum [2]float64
	var n [2]int
	for i, v := range img {
		k := int(mask[i] & 1)
		sum[k] += float64(v)
		n[k]++
	}
	if n[0] == 0 || n[1] == 0 {
		return false
	}
	return sum[1]/float64(n[1])-sum[0]/float64(n[0]) >= minContrast
}

// cut sets the region-to-frame map for sq and warps the region from the
// full-resolution frame into big.
func (e *Extractor) cut(sq square) {
	// Region pixel (u, v) at 2*Size maps to centre + (u-Size)*k*x̂ + (v-Size)*k*ŷ,
	// with ŷ pointing from the fingers to the wrist and x̂ = ŷ rotated by -90°.
	k := sq.side / (2 * Size)
	yx, yy := -sq.ux, -sq.uy
	xx, xy := yy, -yx
	ox := sq.cx - (Size-0.5)*k*(xx+yx)
	oy := sq.cy - (Size-0.5)*k*(xy+yy)
	for i, v := range []float64{k * xx, k * yx, ox, k * xy, k * yy, oy} {
		e.affine.SetDoubleAt(i/3, i%3, v)
	}
	gocv.WarpAffineWithParams(e.frame, &e.big, e.affine, image.Pt(2*Size, 2*Size),
		gocv.InterpolationLinear|gocv.WarpInverseMap, gocv.BorderReplicate, color.RGBA{})
}

// store copies out into dst.
func (e *Extractor) store(dst *image.Gray) error {
	pix, err := e.out.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("roi: region buffer: %w", err)
	}
	for y := range Size {
		copy(dst.Pix[y*dst.Stride:y*dst.Stride+Size], pix[y*Size:])
	}
	return nil
}

type circle struct{ x, y, r float64 }

type point struct{ x, y float64 }

func (p point) dist(x, y float64) float64 { return math.Hypot(p.x-x, p.y-y) }

func pt(p image.Point) point { return point{float64(p.X), float64(p.Y)} }

// valleys appends to out the finger valleys of a contour in a w x h frame: the
// deepest contour point between neighbouring hull points (a convexity
// defect), kept when it looks like the gap between two fingers. The caller
// adds the contour points on the frame edge to the hull points, so that
// fingers running out of the frame still leave one valley per gap. The defects are computed here
// rather than with cv::convexityDefects, which aborts the process on hulls it
// deems not monotonous.
func valleys(out []point, pts []image.Point, hull []int, palm circle, w, h int) []point {
	slices.Sort(hull)
	hull = slices.Compact(hull)
	for i, a := range hull {
		b := hull[(i+1)%len(hull)]
		if b <= a {
			b += len(pts)
		}
		pa, pb := pt(pts[a]), pt(pts[b%len(pts)])
		l := pa.dist(pb.x, pb.y)
		if l == 0 || b == a+1 {
			continue
		}
		var v point
		depth, k := 0.0, 0
		for j := a + 1; j < b; j++ {
			p := pt(pts[j%len(pts)])
			if d := math.Abs((pb.x-pa.x)*(pa.y-p.y)-(pb.y-pa.y)*(pa.x-p.x)) / l; d > depth {
				v, depth, k = p, d, j%len(pts)
			}
		}
		reach := v.dist(palm.x, palm.y)
		// The valley's opening: between its hull points, or between its
		// sides armLen*r along the contour (or up to the frame edge),
		// whichever is narrower.
		arm := func(step int) point {
			j := k
			for range int(armLen * palm.r) {
				j = (j + step + len(pts)) % len(pts)
				if onEdge(pts[j], w, h) {
					break
				}
			}
			return pt(pts[j])
		}
		gap := min(opening(v, pa, pb), opening(v, arm(-1), arm(1)))
		rise := min(pa.dist(palm.x, palm.y), pb.dist(palm.x, palm.y)) - reach
		open := onEdge(pts[a], w, h) && onEdge(pts[b%len(pts)], w, h)
		switch {
		case reach < minReach*palm.r || reach > maxReach*palm.r:
		case gap > maxGap && !open:
		case open && depth >= minOpen:
			out = append(out, v)
		case depth >= minDepth*palm.r && rise >= minRise*palm.r:
			out = append(out, v)
		}
	}
	return out
}

// onEdge reports whether p lies on the edge of a w x h frame.
func onEdge(p image.Point, w, h int) bool { return p.X <= 0 || p.Y <= 0 || p.X >= w-1 || p.Y >= h-1 }

// opening is the angle at v between the directions to a and b.
func opening(v, a, b point) float64 {
	return math.Abs(math.Remainder(math.Atan2(a.y-v.y, a.x-v.x)-math.Atan2(b.y-v.y, b.x-v.x), 2*math.Pi))
}

// fromValleys places the region from the finger valleys. Of the valleys
// ordered by angle around the palm, three consecutive ones, evenly spaced on
// a line, spanning the smallest angle are the valleys between the four
// fingers (the thumb's valley lies further round and lower): the line through
// the outer two gives the rotation and, with the palm's radius, the centre.
// Two neighbouring valleys give only the rotation; the region is then
// centred on the palm.
func fromValleys(palm circle, vs []point) (square, bool) {
	ang := func(p point) float64 { return math.Atan2(p.y-palm.y, p.x-palm.x) }
	slices.SortFunc(vs, func(a, b point) int { return cmp.Compare(ang(a), ang(b)) })
	// axis is the unit normal to the line from a to b, away from the palm.
	axis := func(a, b point) (float64, float64) {
		d := a.dist(b.x, b.y)
		nx, ny := -(b.y-a.y)/d, (b.x-a.x)/d
		if nx*((a.x+b.x)/2-palm.x)+ny*((a.y+b.y)/2-palm.y) < 0 {
			return -nx, -ny
		}
		return nx, ny
	}
	var best square
	bestSpan := math.Inf(1)
	for i := range vs {
		if len(vs) < 3 {
			break
		}
		a, m, b := vs[i], vs[(i+1)%len(vs)], vs[(i+2)%len(vs)]
		span := math.Mod(ang(b)-ang(a)+2*math.Pi, 2*math.Pi)
		d := a.dist(b.x, b.y)
		am, mb := a.dist(m.x, m.y), m.dist(b.x, b.y)
		if span > maxSpan || span >= bestSpan || d == 0 || am > maxUneven*mb || mb > maxUneven*am {
			continue
		}
		nx, ny := axis(a, b)
		mx, my := (a.x+b.x)/2, (a.y+b.y)/2
		// The palm centre lies below the middle of the outer two.
		if t := ((palm.x-a.x)*(b.x-a.x) + (palm.y-a.y)*(b.y-a.y)) / (d * d); math.Abs(t-0.5) > maxOffCentre {
			continue
		}
		if bow := nx*(m.x-mx) + ny*(m.y-my); bow < minBow*d || bow > maxBow*d || !radial(palm, a, b, nx, ny) {
			continue
		}
		bestSpan = span
		best = square{cx: mx - offD*d*nx, cy: my - offD*d*ny, side: sideR * palm.r, ux: nx, uy: ny, by: byThreeValleys}
	}
	if !math.IsInf(bestSpan, 1) {
		return best, true
	}
	// Two valleys: the outer pair (a finger gap closed between them), or
	// neighbours.
	found := false
	for i := range vs {
		if len(vs) < 2 {
			break
		}
		a, b := vs[i], vs[(i+1)%len(vs)]
		d := a.dist(b.x, b.y)
		nx, ny := axis(a, b)
		switch {
		case d < minPair*palm.r || d > maxPair*palm.r || !radial(palm, a, b, nx, ny):
		case d >= outerPair*palm.r:
			mx, my := (a.x+b.x)/2, (a.y+b.y)/2
			return square{cx: mx - offD*d*nx, cy: my - offD*d*ny, side: sideR * palm.r, ux: nx, uy: ny, by: byOuterPair}, true
		case !found:
			best, found = square{cx: palm.x, cy: palm.y, side: sideR * palm.r, ux: nx, uy: ny, by: byNeighbours}, true
		}
	}
	return best, found
}

// radial reports whether the normal (nx, ny) of the line from a to b points
// within maxTilt of the direction from the palm centre to the line's middle,
// as it does for the line through the valleys at the fingers' bases.
func radial(palm circle, a, b point, nx, ny float64) bool {
	mx, my := (a.x+b.x)/2-palm.x, (a.y+b.y)/2-palm.y
	return nx*mx+ny*my >= math.Cos(maxTilt)*math.Hypot(mx, my)
}

// fromPalm places the region on the palm's inscribed circle, along the
// principal axis of the hand within 2r of it, fingers towards the top of
// the frame (the kiosk's hand guide makes the fingers point away from the
// user).
func (e *Extractor) fromPalm(palm circle) (square, bool) {
	mask, err := e.bin.DataPtrUint8()
	if err != nil || palm.r <= 0 {
		return square{}, false
	}
	w, h := e.bin.Cols(), e.bin.Rows()
	rr := 2 * palm.r
	var sxx, syy, sxy float64
	for y := max(0, int(palm.y-rr)); y < min(h, int(palm.y+rr)+1); y++ {
		for x := max(0, int(palm.x-rr)); x < min(w, int(palm.x+rr)+1); x++ {
			dx, dy := float64(x)-palm.x, float64(y)-palm.y
			if mask[y*w+x] == 0 || dx*dx+dy*dy > rr*rr {
				continue
			}
			sxx, syy, sxy = sxx+dx*dx, syy+dy*dy, sxy+dx*dy
		}
	}
	th := 0.5 * math.Atan2(2*sxy, sxx-syy)
	ux, uy := math.Cos(th), math.Sin(th)
	if uy > 0 {
		ux, uy = -ux, -uy
	}
	return square{cx: palm.x, cy: palm.y, side: sideR * palm.r, ux: ux, uy: uy, by: byAxis}, true
}

// inFrame reports whether the palm around the region lies inside the
// w x h frame.
func inFrame(sq square, w, h int) bool {
	// Half the extent of the rotated square of side inside*side.
	half := inside * sq.side / 2 * (math.Abs(sq.ux) + math.Abs(sq.uy))
	return sq.cx-half >= 0 && sq.cy-half >= 0 && sq.cx+half <= float64(w-1) && sq.cy+half <= float64(h-1)
}
