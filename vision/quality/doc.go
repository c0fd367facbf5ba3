// Package quality gates lit NIR frames before liveness and matching: is a
// palm present, at the right distance, centred, still, in focus and well
// exposed? A Gate turns each frame into a Verdict with the measurements
// (Scores), the first thing to fix (Reason) and one sentence for the display
// (Guidance).
//
// # Method
//
// The frame is copied into an OpenCV buffer, downscaled to 320 pixels wide
// with INTER_AREA (box averaging, which also averages out sensor noise) and
// the full-size copy is zeroed. On the downscaled image Otsu's threshold
// splits palm (bright: the LEDs light a near hand far more than the
// background) from background; the palm class gives contrast, brightness,
// saturation and area. The palm itself is the thickest part of the hand: the
// largest disc inside the mask (a chamfer distance transform in which the
// frame edge counts as background) gives its centre and size while ignoring
// fingers and forearm, and a palm cut by the frame edge yields a small disc
// near that edge. Motion is the shift of the mask's centroid since the
// previous frame. Focus is the Laplacian energy of the downscaled image inside
// the palm disc divided by the squared mean (so exposure does not matter): at
// this scale sensor noise is averaged away and palm creases dominate, which
// defocus removes. The gate allocates its buffers in NewGate and reuses them:
// Check does not allocate.
//
// # Thresholds
//
// Check tests, in this order, and reports the first failure:
//
//	NoPalm    Contrast   < 10     palm minus background mean, grey levels
//	TooClose  Area       > 0.55   palm fraction of the frame
//	TooBright Saturation > 0.10   fraction of palm pixels >= 250
//	TooDark   Brightness < 70     palm mean, grey levels
//	OffCentre Offset     > 0.22   palm disc centre from frame centre / half-diagonal
//	TooFar    Radius     < 0.14   palm disc radius / frame width
//	Moving    Motion     > 0.008  centroid shift / frame width since the previous frame
//	                              (first frame after Reset: always Moving)
//	Blurred   Focus      < 18     10^4 x mean squared Laplacian / mean^2
//
// Calibration: see the package vision/eval report.
package quality
