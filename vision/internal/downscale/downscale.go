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
// 800): OpenCV may not keep a pointer to the Go memory an *image.Gray
// usually holds, which the cgo pointer rules forbid. The copy and the
// intermediate halvings live in the caller's workspace (locked memory in
// the kiosk) and are zeroed after every Do.
package downscale

import (
	"image"

	"github.com/palmd/palmd/vision/internal/workspace"
	"gocv.io/x/gocv"
)

// Downscaler holds the buffers for one frame size. It is not safe for
// concurrent use.
type Downscaler struct {
	size  image.Point // frame size the buffers fit
	small image.Point // size of the downscaled copy
	full  gocv.Mat    // copy of the frame
	steps []gocv.Mat  // halvings, then the target size
}

// New returns a Downscaler of frames of size to width pixels wide, its
// buffers taken from s.
func New(s *workspace.Space, size image.Point, width int) *Downscaler {
	d := &Downscaler{size: size, full: s.Mat(size.Y, size.X, gocv.MatTypeCV8U)}
	w, h := size.X, size.Y
	for w >= 2*width {
		w, h = (w+1)/2, (h+1)/2
		d.steps = append(d.steps, s.Mat(h, w, gocv.MatTypeCV8U))
	}
	if w != width || len(d.steps) == 0 {
		h = max(1, size.Y*width/max(1, size.X))
		w = width
		d.steps = append(d.steps, s.Mat(h, w, gocv.MatTypeCV8U))
	}
	d.small = image.Pt(w, h)
	return d
}

// Size returns the frame size d fits.
func (d *Downscaler) Size() image.Point { return d.size }

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
func (d *Downscaler) Small() image.Point { return d.small }

// Do downscales frame (its bounds must have the size given to Fit) and
// returns the result, an 8-bit Mat owned by d and valid until the next Do.
// The full-size copy and the intermediate steps are zeroed.
func (d *Downscaler) Do(frame *image.Gray) gocv.Mat {
	pix, _ := d.full.DataPtrUint8()
	Copy(pix, frame)
	src := d.full
	for i := range d.steps {
		dst := &d.steps[i]
		gocv.Resize(src, dst, image.Pt(dst.Cols(), dst.Rows()), 0, 0, gocv.InterpolationArea)
		src = *dst
	}
	clear(pix)
	for i := range len(d.steps) - 1 {
		d.steps[i].SetTo(gocv.Scalar{})
	}
	return d.steps[len(d.steps)-1]
}

// Clear zeroes the downscaled copy.
func (d *Downscaler) Clear() { d.steps[len(d.steps)-1].SetTo(gocv.Scalar{}) }

// Close zeroes and frees the buffers (their memory stays the workspace's).
func (d *Downscaler) Close() error {
	d.full.SetTo(gocv.Scalar{})
	d.full.Close()
	for i := range d.steps {
		d.steps[i].SetTo(gocv.Scalar{})
		d.steps[i].Close()
	}
	d.steps = nil
	return nil
}
