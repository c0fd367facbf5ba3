// Package downscale makes the small working copy of a frame that the
// quality gate and the liveness checker measure on.
//
// OpenCV's INTER_AREA resize is fast (SIMD) for an exact factor of two and
// slow otherwise, so a frame is halved while it stays at least twice the
// target width and only the last step resizes by an arbitrary factor. For
// 1280 x 800 frames to 320 x 200 that is two halvings: a 4 x 4 box average,
// which also averages sensor noise down by four.
//
// The frame is not copied: its pixels are wrapped in a Mat for the length
// of Do. An *image.Gray usually holds Go memory, which the cgo pointer
// rules let C keep a pointer to only while it is pinned (runtime.Pinner),
// so Do pins it and closes the Mat before it unpins. Copying it into the
// workspace instead cost a 1 MB copy and a 1 MB clear per 1280 x 800
// frame, twelve times a burst for the gate and liveness: BenchmarkDo 95 to
// 103 us a frame copied, 50 to 54 wrapped (2026-12-06). The intermediate
// halvings live in the caller's workspace (locked memory in the kiosk) and
// are zeroed after every Do; the frame itself is the caller's to keep and
// zero.
package downscale

import (
	"image"
	"runtime"

	"github.com/palmd/palmd/vision/internal/workspace"
	"gocv.io/x/gocv"
)

// Downscaler holds the buffers for one frame size. It is not safe for
// concurrent use.
type Downscaler struct {
	size  image.Point // frame size the buffers fit
	small image.Point // size of the downscaled copy
	steps []gocv.Mat  // halvings, then the target size
	pin   runtime.Pinner
}

// New returns a Downscaler of frames of size to width pixels wide, its
// buffers taken from s.
func New(s *workspace.Space, size image.Point, width int) *Downscaler {
	d := &Downscaler{size: size}
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
// 8-bit Mat of frame's size: for a buffer that OpenCV writes to, as the
// region extractor's frame buffer.
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

// Do downscales frame (its bounds must have the size given to New) and
// returns the result, an 8-bit Mat owned by d and valid until the next Do.
// The intermediate steps are zeroed. A frame whose rows are not contiguous
// (a sub-image) is first copied to a contiguous one, zeroed after use; the
// camera's frames never are.
func (d *Downscaler) Do(frame *image.Gray) gocv.Mat {
	if frame.Stride != frame.Bounds().Dx() {
		c := image.NewGray(image.Rectangle{Max: frame.Bounds().Size()})
		defer clear(c.Pix)
		Copy(c.Pix, frame)
		frame = c
	}
	b := frame.Bounds()
	off := frame.PixOffset(b.Min.X, b.Min.Y)
	pix := frame.Pix[off : off+b.Dx()*b.Dy()]
	d.pin.Pin(&pix[0])
	defer d.pin.Unpin()
	src, err := gocv.NewMatFromBytes(b.Dy(), b.Dx(), gocv.MatTypeCV8U, pix)
	if err != nil {
		panic("downscale: wrapping a frame: " + err.Error()) // only an empty frame, which pix[0] already refused
	}
	full := src
	for i := range d.steps {
		dst := &d.steps[i]
		gocv.Resize(src, dst, image.Pt(dst.Cols(), dst.Rows()), 0, 0, gocv.InterpolationArea)
		src = *dst
	}
	full.Close()
	for i := range len(d.steps) - 1 {
		d.steps[i].SetTo(gocv.Scalar{})
	}
	return d.steps[len(d.steps)-1]
}

// Clear zeroes the downscaled copy.
func (d *Downscaler) Clear() { d.steps[len(d.steps)-1].SetTo(gocv.Scalar{}) }

// Close zeroes and frees the buffers (their memory stays the workspace's).
func (d *Downscaler) Close() error {
	for i := range d.steps {
		d.steps[i].SetTo(gocv.Scalar{})
		d.steps[i].Close()
	}
	d.steps = nil
	return nil
}
