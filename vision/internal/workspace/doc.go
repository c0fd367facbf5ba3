// Package workspace carves the working buffers a vision component makes of
// frames (downscaled copies, float images, gradients) from memory its
// caller provides: locked in RAM and kept out of core dumps by
// uplink/secmem in the kiosk. OpenCV images wrap that memory
// (gocv.NewMatFromBytes), which the cgo pointer rules allow because it is
// not Go memory, or, where secmem falls back to the Go heap, because the
// Space pins it until Release.
// Without such memory, or when it is too small, buffers come from the Go
// heap and OpenCV's allocator, as before.
//
// A component lays its buffers out once per frame size, in the same code
// for both uses: Measure runs the layout without allocating and tells how
// many bytes it needs, so the caller can size the memory it provides.
package workspace
