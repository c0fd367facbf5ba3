// Package v4l2 captures 8-bit NIR frames from a Video4Linux2 camera
// (/dev/videoN) through github.com/blackjack/webcam.
//
// Open negotiates a grey format (GREY/Y8; Y10 in 16-bit words; Y10P, MIPI
// RAW10 packed; Y16; or YUYV, whose luma is taken), the frame size and the
// frame rate, and sets exposure and gain through V4L2 controls (switching
// auto-exposure and auto-gain off). Each Capture converts one frame into the
// caller's *image.Gray without allocating.
//
// A camera that is unplugged, errors or delivers no frame within the frame
// timeout is closed and reopened with exponential backoff (timed by an
// injected clock); until it is back, Capture returns an error wrapping
// camera.ErrUnavailable at once, so the firmware can show "out of service" and
// report its health. The webcam library waits for frames in whole seconds, so
// the frame timeout is rounded up to a second while waiting for the driver.
//
// The calls the driver makes on the device are the Device interface, which
// *webcam.Webcam implements; tests (this kernel has no V4L2) drive the
// negotiation, conversion and recovery through a fake Device.
package v4l2
