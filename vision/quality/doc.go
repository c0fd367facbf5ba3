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
// the copy is zeroed. On the downscaled image Otsu's threshold splits palm
// (bright: the LEDs light a near hand far more than the background) from
// background; the palm class gives contrast, brightness, saturation, area,
// centre and how much of the frame edge it covers. Motion is the shift of
// the palm centre since the previous frame. Focus is measured at full
// resolution on a 192 x 192 patch at the palm centre (the downscaled image
// has lost the fine crease detail that defocus removes). The gate allocates
// its buffers in NewGate and reuses them: Check does not allocate.
//
// # Thresholds
//
// Check tests, in this order, and reports the first failure:
//
//	NoPalm    Contrast   < 20    palm minus background mean, grey levels
//	TooBright Saturation > 0.10  fraction of palm pixels >= 250
//	TooDark   Brightness < 70    palm mean, grey levels
//	TooClose  Area       > 0.55  palm fraction of the frame
//	TooFar    Area       < 0.10
//	OffCentre Offset     > 0.25  centre distance / half-diagonal, or
//	          Border     > 0.06  fraction of the frame edge the palm covers
//	Moving    Motion     > 0.01  centre shift / frame width since the previous frame
//	                             (first frame after Reset: always Moving)
//	Blurred   Focus      < 40    mean squared Laplacian, full resolution
//
// Calibration: see the package vision/eval report.
package quality
