// Package downscale makes the small working copy of a frame that the
// quality gate and the liveness checker measure on.
//
// OpenCV's INTER_AREA resize is fast (SIMD) for an exact factor of two and
// slow otherwise, so a frame is halved while it stays at least twice the
// target width and only the last step resizes by an arbitrary factor. For
// 1280 x 800 frames to 320 x 200 that is two halvings: a 4 x 4 box average,
// which also averages sensor noise down by four.
//
// The frame is copied into a Mat allocated once (about 50 us for 1280 x
// 800). gocv v0.31.0's NewMatFromBytes would not copy: it wraps the Go slice
// in a new cv::Mat header (a C++ allocation per frame) and lets OpenCV keep
// a Go pointer after the call returns, which the cgo pointer rules forbid.
package downscale

import (
	"image"

	"gocv.io/x/gocv"
)

// Downscaler holds the buffers for one frame size. It is not safe for
// concurrent use.
type Downscaler struct {
	width   int         // target width
	size    image.Point // frame size the buffers fit
	full    gocv.Mat    // copy of the frame
	fullPix []byte
	steps   []gocv.Mat // halvings, then the target size
}

// New returns a Downscaler to width pixels wide for frames of size.
func New(size image.Point, width int) *Downscaler {
	d := &Downscaler{width: width}
	d.Fit(size)
	return d
}

// Fit makes the buffers fit frames of size and reports whether it had to
// reallocate them.
func (d *Downscaler) Fit(size image.Point) bool {
	if size == d.size {
		return false
	}
	d.free()
	d.full = gocv.NewMatWithSize(size.Y, size.X, gocv.MatTypeCV8U)
	d.fullPix, _ = d.full.DataPtrUint8()
	w, h := size.X, size.Y
	for w >= 2*d.width {
		w, h = (w+1)/2, (h+1)/2
		d.steps = append(d.steps, gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U))
	}
	if w != d.width || len(d.steps) == 0 {
		h = max(1, size.Y*d.width/max(1, size.X))
		d.steps = append(d.steps, gocv.NewMatWithSize(h, d.width, gocv.MatTypeCV8U))
	}
	d.size = size
	return true
}

// Copy copies frame's pixels row by row into pix, the data of a continuous
// 8-bit Mat of frame's size (see the package documentation for why frames
// are copied rather than wrapped).
func Copy(pix []byte, frame *image.Gray) {
	b := frame.Bounds()
	w := b.Dx()
	for y := range b.Dy() {
		off := frame.PixOffset(b.Min.X, b.Min.Y+y)
		copy(pix[y*w:(y+1)*w], frame.Pix[off:off+w])
	}
}

// Small returns the size of the downscaled copy.
func (d *Downscaler) Small() image.Point {
	m := d.steps[len(d.steps)-1]
	return image.Pt(m.Cols(), m.Rows())
}

// Do downscales frame (its bounds must have the size given to Fit) and
// returns the result, an 8-bit Mat owned by d and valid until the next Do.
// The full-size copy and the intermediate steps are zeroed.
func (d *Downscaler) Do(frame *image.Gray) gocv.Mat {
	Copy(d.fullPix, frame)
	src := d.full
	for i := range d.steps {
		dst := &d.steps[i]
		gocv.Resize(src, dst, image.Pt(dst.Cols(), dst.Rows()), 0, 0, gocv.InterpolationArea)
		src = *dst
	}
	clear(d.fullPix)
	for i := range len(d.steps) - 1 {
		d.steps[i].SetTo(gocv.Scalar{})
	}
	return d.steps[len(d.steps)-1]
}

// Clear zeroes the downscaled copy.
func (d *Downscaler) Clear() {
	if d.size != (image.Point{}) {
		d.steps[len(d.steps)-1].SetTo(gocv.Scalar{})
	}
}

func (d *Downscaler) free() {
	if d.size == (image.Point{}) {
		return
	}
	clear(d.fullPix)
	d.full.Close()
	for i := range d.steps {
		d.steps[i].SetTo(gocv.Scalar{})
		d.steps[i].Close()
	}
	d.steps = d.steps[:0]
	d.fullPix = nil
	d.size = image.Point{}
}

// Close zeroes and frees the buffers.
func (d *Downscaler) Close() error {
	d.free()
	return nil
}
