package liveness

import (
	"image"
	"math"

	"github.com/palmd/palmd/vision/internal/downscale"
	"gocv.io/x/gocv"
)

// BurstPairs is how many strobed lit/unlit pairs the firmware captures for
// one liveness decision: 8 frames, 0.13 s at 30 pairs per second (the
// simulated camera's rate). Micro-motion needs a few pairs of tremor and the
// vein ratio a few to average noise; more pairs only lengthen the capture.
const BurstPairs = 4

// The reasons Check gives for a presentation it does not accept.
const (
	NoResponse   = "no_nir_response"  // the palm does not answer the LEDs
	EmitsLight   = "emits_light"      // the palm glows with the LEDs off: a screen
	NoVeins      = "no_vein_response" // no vein pattern under NIR: paper, silicone
	NoMicroMove  = "no_micro_motion"  // perfectly still: a mounted replica
	TooFewFrames = "too_few_frames"   // fewer than two pairs, or frames of unequal size
)

// Pair is one strobed pair: the lit and unlit frames of the same instant.
type Pair struct{ Lit, Unlit *image.Gray }

// Result is the liveness decision on one burst.
type Result struct {
	Live   bool
	Score  float64 // in [0, 1]; Live is Score >= 0.5
	Reason string  // why not live, "" when live
	// Features are the measurements behind Score.
	Features Features
}

// Features are the measurements Check combines; see the package
// documentation for their thresholds.
type Features struct {
	Response float64 // mean lit minus unlit on the palm, grey levels
	Emission float64 // unlit / lit on the palm
	Veins    float64 // black-hat energy of the lit/unlit ratio / its mean, x 100
	Motion   float64 // largest registration shift from the first lit frame, fraction of frame width x 1000
}

// Thresholds; see doc.go for how they were calibrated.
const (
	minResponse = 25.0
	maxEmission = 0.43
	minVeins    = 0.12
	minMotion   = 0.21
)

const (
	workWidth = 320 // width of the downscaled copies
	veinSize  = 13  // black-hat structuring element, small pixels: wider than veins
	smoothing = 3.0 // Gaussian sigma before the ratio, small pixels
)

// Checker decides liveness on bursts. It allocates its buffers in
// NewChecker and reuses them; it is not safe for concurrent use.
type Checker struct {
	ds                    *downscale.Downscaler
	small                 image.Point
	lits                  [BurstPairs]gocv.Mat // downscaled lit frames, float32
	tmp, lit, unlit       gocv.Mat             // float32: scratch, sums over the burst
	smLit, smUnlit, ratio gocv.Mat
	blackhat, kernel      gocv.Mat
	gx, gy                []float32 // gradients of the first lit frame
}

// NewChecker returns a Checker with buffers for 1280 x 800 frames; bursts
// of another size reallocate them once.
func NewChecker() *Checker {
	c := &Checker{
		ds:     downscale.New(image.Pt(1280, 800), workWidth),
		kernel: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(veinSize, veinSize)),
	}
	c.alloc()
	return c
}

// mats lists the float32 buffers of the downscaled size.
func (c *Checker) mats() [7 + BurstPairs]*gocv.Mat {
	m := [7 + BurstPairs]*gocv.Mat{&c.tmp, &c.lit, &c.unlit, &c.smLit, &c.smUnlit, &c.ratio, &c.blackhat}
	for i := range c.lits {
		m[7+i] = &c.lits[i]
	}
	return m
}

// alloc sizes the buffers after the downscaler.
func (c *Checker) alloc() {
	c.free()
	c.small = c.ds.Small()
	for _, m := range c.mats() {
		*m = gocv.NewMatWithSize(c.small.Y, c.small.X, gocv.MatTypeCV32F)
	}
	c.gx, c.gy = make([]float32, c.small.X*c.small.Y), make([]float32, c.small.X*c.small.Y)
}

// free zeroes and closes the buffers of the downscaled size.
func (c *Checker) free() {
	if c.small == (image.Point{}) {
		return
	}
	for _, m := range c.mats() {
		m.SetTo(gocv.Scalar{})
		m.Close()
	}
	clear(c.gx)
	clear(c.gy)
	c.small = image.Point{}
}

// wipe zeroes the buffers that hold images of the palm.
func (c *Checker) wipe() {
	for _, m := range c.mats() {
		m.SetTo(gocv.Scalar{})
	}
	clear(c.gx)
	clear(c.gy)
	c.ds.Clear()
}

// Close zeroes and frees the checker's buffers.
func (c *Checker) Close() error {
	c.free()
	c.kernel.Close()
	return c.ds.Close()
}

// Check decides whether burst shows a live hand. The pairs must be in
// capture order and all frames the same size; the first BurstPairs pairs
// are used and at least two are needed.
func (c *Checker) Check(burst []Pair) Result {
	burst = burst[:min(len(burst), BurstPairs)]
	if len(burst) < 2 {
		return Result{Reason: TooFewFrames}
	}
	b := burst[0].Lit.Bounds()
	for _, p := range burst {
		if p.Lit.Bounds().Size() != b.Size() || p.Unlit.Bounds().Size() != b.Size() {
			return Result{Reason: TooFewFrames}
		}
	}
	if b.Empty() {
		return Result{Reason: TooFewFrames}
	}
	if c.ds.Fit(b.Size()) {
		c.alloc()
	}
	defer c.wipe()
	c.lit.SetTo(gocv.Scalar{})
	c.unlit.SetTo(gocv.Scalar{})
	for i, p := range burst {
		m := c.ds.Do(p.Lit)
		m.ConvertTo(&c.lits[i], gocv.MatTypeCV32F)
		gocv.Add(c.lit, c.lits[i], &c.lit)
		m = c.ds.Do(p.Unlit)
		m.ConvertTo(&c.tmp, gocv.MatTypeCV32F)
		gocv.Add(c.unlit, c.tmp, &c.unlit)
	}
	var f Features
	box, resp, emit := c.palm(len(burst))
	f.Response, f.Emission = resp, emit
	if !box.Empty() {
		f.Veins = c.veins(box, len(burst))
		// Motion: register every later lit frame on the first one.
		c.gradients()
		for i := 1; i < len(burst); i++ {
			f.Motion = max(f.Motion, c.shift(box, c.lits[i]))
		}
		f.Motion *= 1000 / float64(c.small.X)
	}
	return decide(f)
}

// decide maps each feature to a margin in [0, 1] that is 0.5 at its
// threshold. Score is the weakest margin; Reason is the first failing check
// in the order listed, which names the most specific cause.
func decide(f Features) Result {
	checks := [...]struct {
		reason string
		m      float64 // > 1 means live-like
	}{
		{EmitsLight, maxEmission / max(f.Emission, 1e-6)},
		{NoResponse, f.Response / minResponse},
		{NoVeins, f.Veins / minVeins},
		{NoMicroMove, f.Motion / minMotion},
	}
	r := Result{Score: 1, Features: f}
	for _, ch := range checks {
		m := max(ch.m, 0)
		s := m / (1 + m)
		r.Score = min(r.Score, s)
		if s < 0.5 && r.Reason == "" {
			r.Reason = ch.reason
		}
	}
	r.Live = r.Reason == ""
	return r
}

// palm finds the palm on the accumulated lit image (pixels brighter than its
// mean) and returns a square around its centroid well inside it, the mean
// lit-minus-unlit response per pair and the unlit/lit ratio there.
func (c *Checker) palm(pairs int) (image.Rectangle, float64, float64) {
	lp, _ := c.lit.DataPtrFloat32()
	up, _ := c.unlit.DataPtrFloat32()
	cols, rows := c.lit.Cols(), c.lit.Rows()
	mean := float32(c.lit.Mean().Val1)
	var sl, su, sx, sy float64
	n := 0
	for i, v := range lp {
		if v > mean {
			sl += float64(v)
			su += float64(up[i])
			sx += float64(i % cols)
			sy += float64(i / cols)
			n++
		}
	}
	if n == 0 || sl == 0 {
		return image.Rectangle{}, 0, 0
	}
	cx, cy := int(sx/float64(n)), int(sy/float64(n))
	h := int(0.3 * math.Sqrt(float64(n)))
	box := image.Rect(cx-h, cy-h, cx+h, cy+h).Intersect(image.Rect(1, 1, cols-1, rows-1))
	return box, (sl - su) / float64(n) / float64(pairs), su / sl
}

// veins measures dark, vein-wide structure in the ratio of the lit to the
// unlit image: reflectance (creases, print, skin tone) is in both and
// cancels, while veins absorb the 850 nm LED light and stay.
func (c *Checker) veins(box image.Rectangle, pairs int) float64 {
	gocv.GaussianBlur(c.lit, &c.smLit, image.Point{}, smoothing, smoothing, gocv.BorderReflect)
	gocv.GaussianBlur(c.unlit, &c.smUnlit, image.Point{}, smoothing, smoothing, gocv.BorderReflect)
	// ratio = lit / (unlit + 1 grey level per pair): the offset keeps a black
	// unlit frame finite.
	gocv.AddWeighted(c.smUnlit, 1, c.smUnlit, 0, float64(pairs), &c.ratio)
	gocv.Divide(c.smLit, c.ratio, &c.ratio)
	gocv.MorphologyEx(c.ratio, &c.blackhat, gocv.MorphBlackhat, c.kernel)
	rp, _ := c.ratio.DataPtrFloat32()
	bp, _ := c.blackhat.DataPtrFloat32()
	cols := c.ratio.Cols()
	var sb, sr float64
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			sb += float64(bp[y*cols+x])
			sr += float64(rp[y*cols+x])
		}
	}
	if sr == 0 {
		return 0
	}
	return 100 * sb / sr
}

// gradients stores the central-difference gradients of the first lit frame.
func (c *Checker) gradients() {
	p, _ := c.lits[0].DataPtrFloat32()
	cols, rows := c.small.X, c.small.Y
	for y := 1; y < rows-1; y++ {
		for x := 1; x < cols-1; x++ {
			i := y*cols + x
			c.gx[i] = (p[i+1] - p[i-1]) / 2
			c.gy[i] = (p[i+cols] - p[i-cols]) / 2
		}
	}
}

// shift is the translation (small pixels) that registers lit on the first
// lit frame inside box: one Lucas-Kanade step, exact enough for the
// sub-pixel shifts of a hovering hand.
func (c *Checker) shift(box image.Rectangle, lit gocv.Mat) float64 {
	p0, _ := c.lits[0].DataPtrFloat32()
	p1, _ := lit.DataPtrFloat32()
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
