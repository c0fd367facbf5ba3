package liveness

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"math/bits"
	mrand "math/rand/v2"
	"runtime/debug"

	"github.com/palmd/palmd/vision/internal/downscale"
	"github.com/palmd/palmd/vision/internal/workspace"
	"gocv.io/x/gocv"
)

// BurstPairs is how many strobed lit/unlit pairs the legacy Check reads:
// 8 frames. Check uses the first BurstPairs pairs it is given.
const BurstPairs = 4

// BurstFrames is how many frames a challenge-response burst has: two with
// the LEDs off, two with the left bank, two with the right bank and two
// with both, in an order drawn at random per capture (NewPattern). At 60
// frames per second that is 0.13 s.
const BurstFrames = 8

// StillRetakes is how many further bursts a capture takes when liveness
// refused one only for lack of micro-motion (Reason NoMicroMove, every
// other cue passed). A hovering hand's drift (0.2 to 0.6 Hz) turns round
// and its tremor bands (4 to 11 Hz) can cancel for a moment, so the hand
// can look still for one burst (0.13 s); a mount holds an attack still
// through every burst, so one more burst tells the two apart.
const StillRetakes = 1

// DefaultBlack is the black level (grey levels) assumed when a Burst does
// not give one, and by the legacy Check: the kiosk sensor's pedestal.
const DefaultBlack = 16.0

// Bank bits of Frame.Banks.
const (
	BankLeft  uint8 = 1 << iota // the LED bank left of the lens
	BankRight                   // the LED bank right of the lens
	BanksOff  uint8 = 0
	BanksBoth       = BankLeft | BankRight
)

// The reasons Check gives for a presentation it does not accept.
const (
	NoResponse   = "no_nir_response"  // the palm does not answer the LEDs: a screen
	EmitsLight   = "emits_light"      // the palm glows with the LEDs off
	Inconsistent = "inconsistent"     // the light does not follow the random strobe pattern: a projector
	Flat         = "flat"             // the two LED banks shade it alike: a sheet, not a hand
	Specular     = "specular"         // mirror images of the LEDs: glass or glossy paper
	Glossy       = "glossy"           // highlights that jump between the banks: a cast glossier than skin
	NoVeins      = "no_vein_response" // no vein pattern under NIR: paper, silicone
	PaintedVeins = "painted_veins"    // absorbers with sharp edges and flat bottoms: paint on a cast, not veins under skin
	NoMicroMove  = "no_micro_motion"  // perfectly still: a mounted attack
	TooFewFrames = "too_few_frames"   // too few frames, frames of unequal size, or a pattern without unlit frames
)

// Pair is one strobed pair: the lit (both banks) and unlit frames of the
// same instant.
type Pair struct{ Lit, Unlit *image.Gray }

// Frame is one frame of a burst and the LED banks lit while it was
// exposed.
type Frame struct {
	Img   *image.Gray
	Banks uint8 // BankLeft | BankRight bits; 0: all LEDs off
}

// Burst is a challenge-response burst: frames in capture order, each lit
// as the capture's random pattern said, and the sensor's black level.
type Burst struct {
	Frames []Frame
	Black  float64 // grey levels; 0 means DefaultBlack
	// DistanceMM is the presence sensor's reading when the burst was
	// taken; 0 when unknown. Shape is scaled by it (see Features).
	DistanceMM int
}

// Lit appends to dst the burst's frames lit by any LED bank, those lit by
// both banks first: the frames the palm region is cut from and averaged
// (roi.Extractor.ExtractBurst).
func (b Burst) Lit(dst []*image.Gray) []*image.Gray {
	for _, f := range b.Frames {
		if f.Banks == BanksBoth {
			dst = append(dst, f.Img)
		}
	}
	for _, f := range b.Frames {
		if f.Banks != BanksBoth && f.Banks != BanksOff {
			dst = append(dst, f.Img)
		}
	}
	return dst
}

// NewPattern fills dst (BurstFrames long) with a bank pattern drawn from
// crypto/rand: two frames each of off, left, right and both, in random
// order, so that light replayed or projected cannot follow it.
func NewPattern(dst []uint8) error {
	if len(dst) != BurstFrames {
		return errors.New("liveness: pattern must be BurstFrames long")
	}
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return err
	}
	PatternFrom(mrand.NewChaCha8(seed), dst)
	clear(seed[:])
	return nil
}

// PatternFrom fills dst (BurstFrames long) with a pattern drawn from src:
// NewPattern with a caller's source, for reproducible evaluations.
func PatternFrom(src mrand.Source, dst []uint8) {
	r := mrand.New(src)
	for i := range dst {
		dst[i] = uint8(i / 2 % 4) // off, off, left, left, right, right, both, both
	}
	r.Shuffle(len(dst), func(i, j int) { dst[i], dst[j] = dst[j], dst[i] })
}

// Result is the liveness decision on one burst.
type Result struct {
	Live   bool
	Score  float64 // in [0, 1]; Live is Score >= 0.5
	Reason string  // why not live, "" when live: the first of Failed
	// Failed holds every check the burst failed, not only the first: an
	// attack refused by one check alone rests on that check's assumption.
	Failed Checks
	// Features are the measurements behind Score.
	Features Features
}

// Checks is a set of liveness checks, one bit per reason in the order
// they are judged (checkReasons).
type Checks uint16

// checkReasons names the checks in the order decide judges them; bit i
// of Checks is checkReasons[i].
var checkReasons = [...]string{NoResponse, EmitsLight, Inconsistent, Specular, Flat, Glossy, NoVeins, PaintedVeins, NoMicroMove}

// Count returns the number of checks in c.
func (c Checks) Count() int { return bits.OnesCount16(uint16(c)) }

// Has reports whether c holds the check that gives reason.
func (c Checks) Has(reason string) bool {
	for i, r := range checkReasons {
		if r == reason {
			return c&(1<<i) != 0
		}
	}
	return false
}

// Reasons names the checks in c, in the order they are judged.
func (c Checks) Reasons() []string {
	var out []string
	for i, r := range checkReasons {
		if c&(1<<i) != 0 {
			out = append(out, r)
		}
	}
	return out
}

// Features are the measurements Check combines; see the package
// documentation for their thresholds. A feature a burst cannot measure
// (Shape without frames lit by one bank only, Consistency without two
// frames per state) is -1 and not judged.
type Features struct {
	Response    float64 // LED response on the palm, black level and room light removed, grey levels
	Emission    float64 // room-light (LEDs off) level / LED response on the palm
	Consistency float64 // spread of the palm's level between frames lit alike / LED response, x 100
	Shape       float64 // residual of the left-right bank asymmetry after a plane fit, x 100, at ShapeRefMM
	Gloss       float64 // Shape over the palm pixels the LEDs light at least as much as the room does
	Specular    float64 // fraction of palm pixels saturated by one LED bank, x 1000
	Veins       float64 // 97th percentile over the palm of vein-wide darkening of the LED response / the skin's response around it, %
	Square      float64 // median over vein-wide absorbers' cross-sections of width at 85 % depth / width at half depth
	Motion      float64 // largest registration shift between frames lit alike, fraction of frame width x 1000
}

// Thresholds; see doc.go for how they were calibrated.
const (
	minResponse    = 20.0
	maxEmission    = 2.0
	maxConsistency = 3.8
	minShape       = 1.26
	maxShape       = 6.0
	maxSpecular    = 2.0
	minVeins       = 2.6
	maxSquare      = 0.50
	minMotion      = 0.31
)

// ShapeRefMM is the distance Shape is stated at. The banks' asymmetry on a
// surface turned by an angle a is about (b/d)·tan a for banks b either side
// of the lens at distance d, so a burst whose distance is known has its
// Shape multiplied by d/ShapeRefMM: the cue measures the surface, not how
// close it is held.
const ShapeRefMM = 150.0

const (
	workWidth = 320 // width of the downscaled copies
	veinSize  = 13  // black-hat structuring element, small pixels: wider than veins
	smoothing = 3.0 // Gaussian sigma before the shape and vein measures, small pixels
	saturated = 250 // a raw grey level counted as saturated
	histBins  = 256 // vein contrast histogram: bins of 0.2 %, up to 51 %
	veinRank  = 0.97
)

// Checker decides liveness on bursts. It lays its buffers out in
// NewChecker and reuses them; it is not safe for concurrent use.
type Checker struct {
	space  *workspace.Space // where the buffers made of frames live
	size   image.Point      // frame size the buffers fit
	ds     *downscale.Downscaler
	small  image.Point
	frames [BurstFrames]gocv.Mat // downscaled frames, float32, black subtracted
	banks  [BurstFrames]uint8
	sat    []uint8 // per small pixel: some lit frame saturated there

	amb, left, right, both gocv.Mat        // per-state means, float32
	resp, sm, blackhat     gocv.Mat        // LED response, smoothed copy, black-hat
	hist                   [histBins]int32 // vein contrast histogram
	palmSide               float64         // sqrt of the palm's area, small pixels
	kernel                 gocv.Mat
	centre                 image.Point // the palm's centroid, small pixels
	gx, gy                 []float32   // gradients of a frame for registration
	nl, nr                 []float32   // left and right means over their smoothed selves

	sq    square // the Square cue's buffers
	pairs [BurstFrames]Frame

	// Square reads the full-resolution frame and its own buffers only, so
	// it runs on the Checker's own goroutine (squares) while the other
	// cues are measured on the small copies; Close stops it.
	squareIn      chan squareJob
	squareOut     chan squareResult
	squarePending bool // a job was sent and its result not yet received
	copies        bool // the small copies hold a burst's images (zeroCopies clears them)
}

// squareJob is what the Square cue is measured on: see square.measure.
type squareJob struct {
	frame               *image.Gray
	cx, cy, side, black float64
}

// squareResult is the Square cue's value, or the error a panic in
// measuring it became.
type squareResult struct {
	v   float64
	err error
}

// squares measures the Square cue of each job until Close.
func (c *Checker) squares() {
	for j := range c.squareIn {
		c.squareOut <- c.measureSquare(j)
	}
}

// measureSquare measures j, turning a panic into an error with its stack
// so that awaitSquare panics with it on CheckBurst's goroutine, where the
// caller may recover (the kiosk ends the session and serves the next
// person), rather than on the Checker's, where it would end the process.
func (c *Checker) measureSquare(j squareJob) (r squareResult) {
	defer func() {
		if p := recover(); p != nil {
			r.err = fmt.Errorf("liveness: the Square cue panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return squareResult{v: c.sq.measure(j.frame, j.cx, j.cy, j.side, j.black)}
}

// awaitSquare returns the Square cue's value sent to the Checker's
// goroutine, or panics with the error its measurement panicked with.
func (c *Checker) awaitSquare() float64 {
	r := <-c.squareOut
	c.squarePending = false
	if r.err != nil {
		panic(r.err)
	}
	return r.v
}

// NewChecker returns a Checker whose buffers come from the Go heap and
// OpenCV's allocator: NewCheckerIn(nil).
func NewChecker() *Checker { return NewCheckerIn(nil) }

// NewCheckerIn returns a Checker whose buffers made of frames (downscaled
// copies, float images, gradients, the Square cue's palm square) live in
// mem: WorkspaceSize bytes for 1280 x 800 frames, outside the Go heap and
// 64-byte aligned (uplink/secmem's locked memory in the kiosk), or nil for
// the heap. mem must outlive the Checker. Buffers that do not fit, and
// OpenCV's own scratch memory inside a call, come from the heap.
func NewCheckerIn(mem []byte) *Checker {
	c := &Checker{
		space:  workspace.New(mem),
		kernel: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(veinSize, veinSize)),
		sq:     newSquare(),

		squareIn:  make(chan squareJob),
		squareOut: make(chan squareResult),
	}
	c.layout(image.Pt(1280, 800)) // the sensor's; a burst of another size lays them out again
	go c.squares()
	return c
}

// WorkspaceSize is the memory NewCheckerIn needs for frames of size.
func WorkspaceSize(frame image.Point) int {
	c := Checker{space: workspace.Measure()}
	c.layout(frame)
	return c.space.Need()
}

const numMats = BurstFrames + 7

// mats lists the float32 buffers of the downscaled size.
func (c *Checker) mats() [numMats]*gocv.Mat {
	m := [numMats]*gocv.Mat{&c.amb, &c.left, &c.right, &c.both, &c.resp, &c.sm, &c.blackhat}
	for i := range c.frames {
		m[7+i] = &c.frames[i]
	}
	return m
}

// layout takes the buffers for frames of size from the workspace, after
// zeroing and freeing those it had.
func (c *Checker) layout(size image.Point) {
	c.free()
	c.space.Reset()
	c.size = size
	c.ds = downscale.New(c.space, size, workWidth)
	c.small = c.ds.Small()
	for _, m := range c.mats() {
		*m = c.space.Mat(c.small.Y, c.small.X, gocv.MatTypeCV32F)
	}
	n := c.small.X * c.small.Y
	c.gx, c.gy = workspace.Slice[float32](c.space, n), workspace.Slice[float32](c.space, n)
	c.nl, c.nr = workspace.Slice[float32](c.space, n), workspace.Slice[float32](c.space, n)
	c.sat = workspace.Slice[uint8](c.space, n)
	c.sq.layout(c.space, size.X)
}

// free zeroes and closes the buffers laid out for the last frame size.
func (c *Checker) free() {
	if c.ds == nil {
		return
	}
	c.zero()
	for _, m := range c.mats() {
		m.Close()
	}
	c.sq.free()
	c.ds.Close()
	c.ds = nil
}

// wipe zeroes the buffers that hold images of the palm and forgets the
// frames of a Check. When a cue panicked while Square was being measured,
// it first waits for Square: its buffers are then free to zero, and the
// Checker's goroutine is ready for the next burst.
func (c *Checker) wipe() {
	if c.squarePending {
		<-c.squareOut
		c.squarePending = false
	}
	if c.copies {
		c.zeroCopies()
	}
	c.sq.wipe()
	clear(c.pairs[:])
}

// zero zeroes the buffers layout took.
func (c *Checker) zero() {
	c.zeroCopies()
	c.sq.wipe()
}

// zeroCopies zeroes the small copies and every buffer made from them:
// all but Square's.
func (c *Checker) zeroCopies() {
	for _, m := range c.mats() {
		m.SetTo(gocv.Scalar{})
	}
	clear(c.gx)
	clear(c.gy)
	clear(c.nl)
	clear(c.nr)
	clear(c.sat)
	c.ds.Clear()
	c.copies = false
}

// Close stops the Checker's goroutine, zeroes and frees its buffers; its
// workspace may then be released.
func (c *Checker) Close() error {
	close(c.squareIn)
	c.free()
	c.sq.close()
	c.kernel.Close()
	c.space.Release()
	return nil
}

// Check decides whether burst shows a live hand from strobed pairs (both
// banks lit, then off), with the sensor at DefaultBlack. The pairs must be
// in capture order and all frames the same size; the first BurstPairs
// pairs are used and at least two are needed. A fixed lit/unlit pattern
// cannot tell the banks apart or defeat a projector that follows it:
// CheckBurst with a NewPattern burst measures every cue.
func (c *Checker) Check(burst []Pair) Result {
	burst = burst[:min(len(burst), BurstPairs)]
	if len(burst) < 2 {
		return Result{Reason: TooFewFrames}
	}
	for i, p := range burst {
		c.pairs[2*i] = Frame{Img: p.Lit, Banks: BanksBoth}
		c.pairs[2*i+1] = Frame{Img: p.Unlit, Banks: BanksOff}
	}
	return c.CheckBurst(Burst{Frames: c.pairs[:2*len(burst)], Black: DefaultBlack})
}

// CheckBurst decides whether a challenge-response burst shows a live hand.
// It needs at least two unlit and two lit frames of one size; the first
// BurstFrames frames are used.
func (c *Checker) CheckBurst(b Burst) Result {
	frames := b.Frames[:min(len(b.Frames), BurstFrames)]
	var count [4]int
	for _, f := range frames {
		count[f.Banks&BanksBoth]++
	}
	if count[BanksOff] < 1 || len(frames)-count[BanksOff] < 2 || frames[0].Img == nil {
		return Result{Reason: TooFewFrames}
	}
	size := frames[0].Img.Bounds().Size()
	for _, f := range frames {
		if f.Img == nil || f.Img.Bounds().Size() != size {
			return Result{Reason: TooFewFrames}
		}
	}
	if size.X == 0 || size.Y == 0 {
		return Result{Reason: TooFewFrames}
	}
	if size != c.size {
		c.layout(size)
	}
	defer c.wipe()
	black := b.Black
	if black <= 0 {
		black = DefaultBlack
	}
	// Downscale, subtract the black level, and average per state.
	c.copies = true
	for _, m := range [...]*gocv.Mat{&c.amb, &c.left, &c.right, &c.both} {
		m.SetTo(gocv.Scalar{})
	}
	for i, f := range frames {
		c.banks[i] = f.Banks & BanksBoth
		m := c.ds.Do(f.Img)
		if bit := satBit(c.banks[i]); bit != 0 {
			px, _ := m.DataPtrUint8()
			markSaturated(c.sat[:len(px)], px, bit)
		}
		m.ConvertToWithParams(&c.frames[i], gocv.MatTypeCV32F, 1, -float32(black))
		gocv.Add(*c.state(c.banks[i]), c.frames[i], c.state(c.banks[i]))
	}
	for s, n := range count {
		if n > 0 {
			m := c.state(uint8(s))
			gocv.AddWeighted(*m, 1/float64(n), *m, 0, 0, m)
		}
	}
	// The LED response of both banks: left + right, or both, or their
	// average when the burst has both kinds of frames; the room's light
	// removed.
	amb, _ := c.amb.DataPtrFloat32()
	lp, _ := c.left.DataPtrFloat32()
	rp, _ := c.right.DataPtrFloat32()
	bp, _ := c.both.DataPtrFloat32()
	resp, _ := c.resp.DataPtrFloat32()
	oneBank := count[BankLeft] > 0 && count[BankRight] > 0
	for j := range resp {
		var v, n float32
		if oneBank {
			v += lp[j] + rp[j] - 2*amb[j]
			n++
		}
		if count[BanksBoth] > 0 {
			v += bp[j] - amb[j]
			n++
		}
		if n == 0 { // only one single bank: twice its response
			if count[BankLeft] > 0 {
				v, n = 2*(lp[j]-amb[j]), 1
			} else {
				v, n = 2*(rp[j]-amb[j]), 1
			}
		}
		resp[j] = v / n
	}
	var f Features
	box, response, ambient := c.palm()
	f.Response = response
	f.Emission = ambient / max(response, 1)
	f.Consistency, f.Shape, f.Gloss, f.Motion, f.Square = -1, -1, -1, -1, -1
	if !box.Empty() {
		// Square at full resolution, on a square of side squareSide x
		// sqrt(palm area) around the palm's centroid, beside the others.
		lit := litFrame(frames)
		k := float64(lit.Bounds().Dx()) / float64(c.small.X)
		c.squareIn <- squareJob{lit, (float64(c.centre.X) + 0.5) * k, (float64(c.centre.Y) + 0.5) * k, squareSide * c.palmSide * k, black}
		c.squarePending = true
		f.Specular = c.specular(box, oneBank, black)
		f.Veins = c.veins(box)
		f.Consistency = c.consistency(box, frames, count, response)
		if oneBank {
			f.Shape, f.Gloss = c.shape(box)
			if b.DistanceMM > 0 {
				k := float64(b.DistanceMM) / ShapeRefMM
				f.Shape *= k
				f.Gloss = max(f.Gloss*k, -1)
			}
		}
		f.Motion = c.motion(box, frames, count)
		// The small copies are no longer read: zero them while Square,
		// the longer of the two branches, is still being measured.
		c.zeroCopies()
		f.Square = c.awaitSquare()
	}
	return decide(f)
}

// state returns the mean buffer of a bank state.
func (c *Checker) state(banks uint8) *gocv.Mat {
	switch banks {
	case BankLeft:
		return &c.left
	case BankRight:
		return &c.right
	case BanksBoth:
		return &c.both
	}
	return &c.amb
}

// markSaturated sets bit in sat wherever px is saturated, eight pixels a
// step: a byte is at least saturated (250, so its top bit is set) when its
// low seven bits plus 256-saturated carry into its top bit, and a word in
// which no byte does so, as nearly all are, is skipped.
func markSaturated(sat, px []uint8, bit uint8) {
	const (
		low7 = 0x7f7f7f7f7f7f7f7f
		top  = 0x8080808080808080
		add  = (256 - saturated) * 0x0101010101010101
	)
	j := 0
	for ; j+8 <= len(px); j += 8 {
		if w := binary.LittleEndian.Uint64(px[j:]); ((w&low7)+add)&w&top == 0 {
			continue
		}
		for k, v := range px[j : j+8] {
			if v >= saturated {
				sat[j+k] |= bit
			}
		}
	}
	for ; j < len(px); j++ {
		if px[j] >= saturated {
			sat[j] |= bit
		}
	}
}

// decide maps each feature to a margin that is 0.5 at its threshold. Score
// is the weakest margin; Reason is the first failing check in the order
// listed, which names the most specific cause.
func decide(f Features) Result {
	inv := func(v, limit float64) float64 { return limit / max(v, 1e-6) }
	// In the order of checkReasons.
	checks := [len(checkReasons)]struct {
		m    float64 // > 1 means live-like
		skip bool    // not measured
	}{
		{f.Response / minResponse, false},
		{inv(f.Emission, maxEmission), false},
		{inv(f.Consistency, maxConsistency), f.Consistency < 0},
		{inv(f.Specular, maxSpecular), false},
		{f.Shape / minShape, f.Shape < 0},
		{inv(f.Gloss, maxShape), f.Gloss < 0},
		{f.Veins / minVeins, false},
		{inv(f.Square, maxSquare), f.Square < 0},
		{f.Motion / minMotion, f.Motion < 0},
	}
	r := Result{Score: 1, Features: f}
	for i, ch := range checks {
		if ch.skip {
			continue
		}
		m := max(ch.m, 0)
		s := m / (1 + m)
		r.Score = min(r.Score, s)
		if s < 0.5 {
			r.Failed |= 1 << i
			if r.Reason == "" {
				r.Reason = checkReasons[i]
			}
		}
	}
	r.Live = r.Reason == ""
	return r
}

// palm finds the palm on the LED response (pixels above its mean) and
// returns a square around its centroid well inside it, the mean response
// there and the mean room-light level.
func (c *Checker) palm() (image.Rectangle, float64, float64) {
	rp, _ := c.resp.DataPtrFloat32()
	ap, _ := c.amb.DataPtrFloat32()
	cols, rows := c.small.X, c.small.Y
	var mean float64
	for _, v := range rp {
		mean += float64(v)
	}
	mean /= float64(len(rp))
	var sx, sy float64
	n := 0
	for y := range rows {
		for x, v := range rp[y*cols : (y+1)*cols] {
			if float64(v) > mean {
				sx += float64(x)
				sy += float64(y)
				n++
			}
		}
	}
	if n == 0 {
		return image.Rectangle{}, 0, 0
	}
	cx, cy := int(sx/float64(n)), int(sy/float64(n))
	c.centre = image.Pt(cx, cy)
	c.palmSide = math.Sqrt(float64(n))
	h := int(0.3 * c.palmSide)
	box := image.Rect(cx-h, cy-h, cx+h, cy+h).Intersect(image.Rect(1, 1, cols-1, rows-1))
	if box.Empty() {
		return box, 0, 0
	}
	var sr, sa float64
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			sr += float64(rp[y*cols+x])
			sa += float64(ap[y*cols+x])
		}
	}
	m := float64(box.Dx() * box.Dy())
	return box, sr / m, max(sa/m, 0)
}

// Bits of Checker.sat: where a frame saturated.
const (
	satOneBank uint8 = 1 << iota // a frame lit by one bank
	satBoth                      // a frame lit by both banks
)

func satBit(banks uint8) uint8 {
	switch banks {
	case BankLeft, BankRight:
		return satOneBank
	case BanksBoth:
		return satBoth
	}
	return 0
}

// specular is the fraction (x 1000) of the palm square that one LED bank
// alone saturates: mirror images of the LEDs in glass, glossy paper or a
// glossy cast. A mirror image of a bank is as bright under that bank alone
// as under both, while a diffuse surface the auto-exposure let run over
// (held close, tilted towards the LEDs) gets half the light from one bank
// and does not saturate. Pixels the room's light alone takes half-way to
// saturation (sun on the hand) are left out: there the LEDs only add to
// light that is already there. A burst without single-bank frames (the
// legacy pairs) counts saturation in frames lit by both banks.
func (c *Checker) specular(box image.Rectangle, oneBank bool, black float64) float64 {
	bit := satBoth
	if oneBank {
		bit = satOneBank
	}
	amb, _ := c.amb.DataPtrFloat32()
	bright := float32((saturated - black) / 2)
	cols := c.small.X
	n := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			i := y*cols + x
			if c.sat[i]&bit != 0 && amb[i] < bright {
				n++
			}
		}
	}
	return 1000 * float64(n) / float64(box.Dx()*box.Dy())
}

// veins measures how strongly vein-wide structure absorbs the LEDs'
// light, relative to the skin around it: per pixel, the black-hat of the
// smoothed LED response (room light and black level removed) over its
// closing, 1 - I/I_skin, which is the absorber's contrast whatever the
// LEDs' power, the skin's albedo or the exposure. It returns the 97th
// percentile (%) of that contrast over the whole palm (a square of side
// sqrt(palm area) around box's centre, pixels at least half its mean
// response, which leaves out the gaps between fingers): a hand with a few
// veins scores like one with many, while a sheet printed in dye ink, a
// screen or a bare cast has no absorber anywhere. Carbon-printed or
// painted imitations do absorb; other cues catch them.
func (c *Checker) veins(box image.Rectangle) float64 {
	cols := c.small.X
	cx, cy := (box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2
	h := int(0.5 * c.palmSide)
	palm := image.Rect(cx-h, cy-h, cx+h, cy+h).Intersect(image.Rect(1, 1, cols-1, c.small.Y-1))
	if palm.Empty() {
		return 0
	}
	// Smoothed and black-hatted only around the palm: the black-hat of a
	// pixel reads the smoothed response up to veinSize-1 pixels away, and
	// OpenCV's blur reads the response beyond the region, so the palm's
	// values are those of the whole frame's.
	near := palm.Inset(-veinSize).Intersect(image.Rect(0, 0, cols, c.small.Y))
	resp, sm, blackhat := c.resp.Region(near), c.sm.Region(near), c.blackhat.Region(near)
	gocv.GaussianBlur(resp, &sm, image.Point{}, smoothing/2, smoothing/2, gocv.BorderReflect)
	gocv.MorphologyEx(sm, &blackhat, gocv.MorphBlackhat, c.kernel)
	resp.Close()
	sm.Close()
	blackhat.Close()
	sp, _ := c.sm.DataPtrFloat32()
	bp, _ := c.blackhat.DataPtrFloat32()
	var mean float64
	for y := palm.Min.Y; y < palm.Max.Y; y++ {
		for x := palm.Min.X; x < palm.Max.X; x++ {
			mean += float64(sp[y*cols+x])
		}
	}
	mean /= float64(max(palm.Dx()*palm.Dy(), 1))
	defer clear(c.hist[:])
	n := 0
	for y := palm.Min.Y; y < palm.Max.Y; y++ {
		for x := palm.Min.X; x < palm.Max.X; x++ {
			i := y*cols + x
			if float64(sp[i]) < mean/2 || sp[i] <= 0 {
				continue
			}
			bin := int(bp[i] / (sp[i] + bp[i]) * 500)
			c.hist[min(bin, histBins-1)]++
			n++
		}
	}
	if n == 0 {
		return 0
	}
	k := int32(veinRank * float64(n))
	var acc int32
	for b, v := range c.hist {
		acc += v
		if acc > k {
			return float64(b) / 5
		}
	}
	return float64(histBins) / 5
}

// litFrame returns the burst's first frame lit by both banks, or its
// first lit frame when none is (CheckBurst has at least two).
func litFrame(frames []Frame) *image.Gray {
	var lit *image.Gray
	for _, f := range frames {
		if f.Banks == BanksBoth {
			return f.Img
		}
		if lit == nil && f.Banks != BanksOff {
			lit = f.Img
		}
	}
	return lit
}

// consistency is how much the palm's level varies between frames the
// pattern lit alike, relative to the LED response (x 100). Reflected LED
// and room light repeat from frame to frame; a projector flashing to its
// own guess of the pattern adds light to some frames of a state and not to
// others. -1 when no state has two frames.
func (c *Checker) consistency(box image.Rectangle, frames []Frame, count [4]int, response float64) float64 {
	var levels [BurstFrames]float64
	cols := c.small.X
	for i := range frames {
		p, _ := c.frames[i].DataPtrFloat32()
		var s float64
		for y := box.Min.Y; y < box.Max.Y; y++ {
			for x := box.Min.X; x < box.Max.X; x++ {
				s += float64(p[y*cols+x])
			}
		}
		levels[i] = s / float64(box.Dx()*box.Dy())
	}
	var worst float64
	measured := false
	for s := range uint8(4) {
		if count[s] < 2 {
			continue
		}
		measured = true
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range frames {
			if c.banks[i] == s {
				lo, hi = min(lo, levels[i]), max(hi, levels[i])
			}
		}
		worst = max(worst, hi-lo)
	}
	if !measured {
		return -1
	}
	return 100 * worst / max(response, 1)
}

// shape fits a plane to the left-right asymmetry (L-R)/(L+R) of the LED
// response over the palm square and returns the residual's RMS (x 100). A
// flat sheet, a screen or projected light give a smooth inverse-square
// gradient a plane fits; a palm's eminences, hollow and finger bases turn
// its surface towards one bank or the other. The frames lit by the right
// bank are registered on those lit by the left first: a hand-held surface
// moves between them, and its printed or natural edges would otherwise
// show in the asymmetry as relief.
//
// gloss is the same over the square's pixels where the LEDs (both banks)
// give at least as much light as the room; -1 when fewer than 10 are. The
// room's light is subtracted as the unlit frames saw it, at other
// instants: where it dominates, a hand that moved in between leaves the
// gradients of its shading (a low sun's, say) in each bank's response, and
// the asymmetry reads them as relief. A highlight of the LEDs is LED
// light, so gloss keeps every one.
func (c *Checker) shape(box image.Rectangle) (shape, gloss float64) {
	// Smooth L and R in place of the scratch buffers, around the box as far
	// as the registration reads (bankShift's near). OpenCV's blur reads
	// beyond the region, so the values are those of the whole frame's.
	near := box.Inset(-maxBankShift - 2).Intersect(image.Rect(0, 0, c.small.X, c.small.Y))
	for _, m := range [...][2]*gocv.Mat{{&c.left, &c.sm}, {&c.right, &c.blackhat}, {&c.amb, &c.resp}} {
		src, dst := m[0].Region(near), m[1].Region(near)
		gocv.GaussianBlur(src, &dst, image.Point{}, smoothing, smoothing, gocv.BorderReflect)
		src.Close()
		dst.Close()
	}
	lp, _ := c.sm.DataPtrFloat32()
	rp, _ := c.blackhat.DataPtrFloat32()
	ap, _ := c.resp.DataPtrFloat32()
	cols := c.small.X
	dx, dy := c.bankShift(box)
	var all, led planeFit
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			i := y*cols + x
			l, r := float64(lp[i]-ap[i]), clampedBilinear(rp, cols, c.small.Y, float64(x)+dx, float64(y)+dy)-float64(ap[i])
			if l+r <= 1 {
				continue
			}
			d := (l - r) / (l + r)
			fx, fy := float64(x-box.Min.X), float64(y-box.Min.Y)
			all.add(fx, fy, d)
			if float64(ap[i]) <= l+r {
				led.add(fx, fy, d)
			}
		}
	}
	gloss = -1
	if led.n >= 10 {
		gloss = 100 * led.rms()
	}
	if all.n < 10 {
		return 0, gloss
	}
	return 100 * all.rms(), gloss
}

// planeFit accumulates the sums of a least-squares plane d = a + b·x + c·y.
type planeFit struct {
	n, sx, sy, sxx, sxy, syy, sd, sxd, syd, sdd float64
}

func (p *planeFit) add(x, y, d float64) {
	p.n++
	p.sx += x
	p.sy += y
	p.sxx += x * x
	p.sxy += x * y
	p.syy += y * y
	p.sd += d
	p.sxd += x * d
	p.syd += y * d
	p.sdd += d * d
}

// rms is the residual's root mean square after the plane, 0 when the
// points do not determine one.
func (p *planeFit) rms() float64 {
	// Solve [[n sx sy][sx sxx sxy][sy sxy syy]]·(a b c) = (sd sxd syd).
	m := [3][4]float64{{p.n, p.sx, p.sy, p.sd}, {p.sx, p.sxx, p.sxy, p.sxd}, {p.sy, p.sxy, p.syy, p.syd}}
	for k := range 3 {
		piv := m[k][k]
		if math.Abs(piv) < 1e-9 {
			return 0
		}
		for j := k; j < 4; j++ {
			m[k][j] /= piv
		}
		for i := range 3 {
			if i != k {
				f := m[i][k]
				for j := k; j < 4; j++ {
					m[i][j] -= f * m[k][j]
				}
			}
		}
	}
	a, b, c := m[0][3], m[1][3], m[2][3]
	// Residual sum of squares from the sums: Σ(d - a - b x - c y)².
	rss := p.sdd - 2*(a*p.sd+b*p.sxd+c*p.syd) + a*a*p.n + b*b*p.sxx + c*c*p.syy + 2*(a*b*p.sx+a*c*p.sy+b*c*p.sxy)
	return math.Sqrt(max(rss, 0) / p.n)
}

// maxBankShift bounds the registration of the right bank's frames on the
// left's (small pixels): a hovering hand moves a pixel or two between them.
const maxBankShift = 4

// bankShift is the translation (small pixels) that registers the right
// bank's mean on the left's inside box. Each is divided by its smoothed
// self (c.sm, c.blackhat), which keeps the texture, veins and creases
// both share and drops the shading in which they differ; a search over
// whole shifts up to maxBankShift-1 and three Gauss-Newton steps on the
// left's gradients follow. (0, 0) when the square has no texture or the
// steps run off.
func (c *Checker) bankShift(box image.Rectangle) (dx, dy float64) {
	lp, _ := c.left.DataPtrFloat32()
	rp, _ := c.right.DataPtrFloat32()
	ls, _ := c.sm.DataPtrFloat32()
	rs, _ := c.blackhat.DataPtrFloat32()
	cols, rows := c.small.X, c.small.Y
	// Only around the box: what the shifts and the gradients read.
	near := box.Inset(-maxBankShift - 2).Intersect(image.Rect(0, 0, cols, rows))
	for y := near.Min.Y; y < near.Max.Y; y++ {
		for i := y*cols + near.Min.X; i < y*cols+near.Max.X; i++ {
			c.nl[i], c.nr[i] = lp[i]/max(ls[i], 1), rp[i]/max(rs[i], 1)
		}
	}
	// The left's gradients (in c.gx, c.gy, which motion fills again later),
	// on every other pixel of every other row, as everything below: the
	// palm square has thousands.
	var gxx, gxy, gyy float64
	for y := box.Min.Y; y < box.Max.Y; y += 2 {
		for x := box.Min.X; x < box.Max.X; x += 2 {
			i := y*cols + x
			c.gx[i] = (c.nl[min(i+1, len(c.nl)-1)] - c.nl[max(i-1, 0)]) / 2
			c.gy[i] = (c.nl[min(i+cols, len(c.nl)-1)] - c.nl[max(i-cols, 0)]) / 2
			gx, gy := float64(c.gx[i]), float64(c.gy[i])
			gxx += gx * gx
			gxy += gx * gy
			gyy += gy * gy
		}
	}
	det := gxx*gyy - gxy*gxy
	if det <= 1e-12 {
		return 0, 0
	}
	// The nearest whole shift first, as one Gauss-Newton step only
	// reaches about a pixel.
	best := math.Inf(1)
	for sy := -maxBankShift + 1; sy < maxBankShift; sy++ {
		for sx := -maxBankShift + 1; sx < maxBankShift; sx++ {
			var ssd float64
			for y := box.Min.Y; y < box.Max.Y; y += 2 {
				yy := min(max(y+sy, 0), rows-1)
				for x := box.Min.X; x < box.Max.X; x += 2 {
					e := float64(c.nr[yy*cols+min(max(x+sx, 0), cols-1)] - c.nl[y*cols+x])
					ssd += e * e
				}
			}
			if ssd < best {
				best, dx, dy = ssd, float64(sx), float64(sy)
			}
		}
	}
	for range 3 {
		var bx, by float64
		for y := box.Min.Y; y < box.Max.Y; y += 2 {
			for x := box.Min.X; x < box.Max.X; x += 2 {
				i := y*cols + x
				gx, gy := float64(c.gx[i]), float64(c.gy[i])
				e := clampedBilinear(c.nr, cols, rows, float64(x)+dx, float64(y)+dy) - float64(c.nl[i])
				bx += gx * e
				by += gy * e
			}
		}
		dx -= (gyy*bx - gxy*by) / det
		dy -= (gxx*by - gxy*bx) / det
		if math.Hypot(dx, dy) > maxBankShift {
			return 0, 0
		}
	}
	return dx, dy
}

// clampedBilinear samples p (cols x rows) at (x, y), clamped to its edges.
func clampedBilinear(p []float32, cols, rows int, x, y float64) float64 {
	x = max(0, min(float64(cols-1), x))
	y = max(0, min(float64(rows-1), y))
	x0, y0 := min(int(x), cols-2), min(int(y), rows-2)
	fx, fy := x-float64(x0), y-float64(y0)
	i := y0*cols + x0
	top := float64(p[i])*(1-fx) + float64(p[i+1])*fx
	bot := float64(p[i+cols])*(1-fx) + float64(p[i+cols+1])*fx
	return top*(1-fy) + bot*fy
}

// motion is the largest translation (fraction of the frame width x 1000)
// that registers a frame on an earlier one lit alike, by one Lucas-Kanade
// step over the palm square: a hovering hand trembles, a mounted attack
// does not. -1 when no state has two lit frames.
func (c *Checker) motion(box image.Rectangle, frames []Frame, count [4]int) float64 {
	worst := -1.0
	for s := uint8(1); s < 4; s++ {
		if count[s] < 2 {
			continue
		}
		first := -1
		for i := range frames {
			if c.banks[i] != s {
				continue
			}
			if first < 0 {
				first = i
				c.gradients(c.frames[i], box)
				continue
			}
			worst = max(worst, c.shift(box, c.frames[first], c.frames[i]))
		}
	}
	if worst < 0 {
		return -1
	}
	return worst * 1000 / float64(c.small.X)
}

// gradients stores the central-difference gradients of m inside box (what
// shift reads), away from the frame's edges.
func (c *Checker) gradients(m gocv.Mat, box image.Rectangle) {
	p, _ := m.DataPtrFloat32()
	cols, rows := c.small.X, c.small.Y
	for y := max(box.Min.Y, 1); y < min(box.Max.Y, rows-1); y++ {
		for x := max(box.Min.X, 1); x < min(box.Max.X, cols-1); x++ {
			i := y*cols + x
			c.gx[i] = (p[i+1] - p[i-1]) / 2
			c.gy[i] = (p[i+cols] - p[i-cols]) / 2
		}
	}
}

// shift is the translation (small pixels) that registers b on a inside
// box: one Lucas-Kanade step on a's gradients, exact enough for the
// sub-pixel shifts of a hovering hand.
func (c *Checker) shift(box image.Rectangle, a, b gocv.Mat) float64 {
	p0, _ := a.DataPtrFloat32()
	p1, _ := b.DataPtrFloat32()
	cols := c.small.X
	var gxx, gxy, gyy, bx, by float64
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			i := y*cols + x
			gx, gy := float64(c.gx[i]), float64(c.gy[i])
			it := float64(p1[i] - p0[i])
			gxx += gx * gx
			gxy += gx * gy
			gyy += gy * gy
			bx -= gx * it
			by -= gy * it
		}
	}
	det := gxx*gyy - gxy*gxy
	if det <= 0 {
		return 0
	}
	return math.Hypot((gyy*bx-gxy*by)/det, (gxx*by-gxy*bx)/det)
}
