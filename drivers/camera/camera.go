// Package camera defines the near-infrared camera the kiosk captures palms with.
package camera

import (
	"context"
	"errors"
	"image"
)

// ErrUnavailable reports a camera that is unplugged, wedged or not yet
// reopened. Callers show "out of service" and try again later.
var ErrUnavailable = errors.New("camera: unavailable")

// Camera delivers 8-bit greyscale NIR frames.
type Camera interface {
	// Bounds is the size of every frame Capture fills.
	Bounds() image.Rectangle
	// Capture fills dst (of size Bounds) with the next frame. It blocks until
	// a frame arrives, ctx is done, or the frame timeout passes.
	Capture(ctx context.Context, dst *image.Gray) error
	// Halt stops streaming. The next Capture starts it again.
	Halt() error
}
