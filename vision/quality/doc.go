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
// both copies are zeroed before Check returns. On the downscaled image Otsu's threshold
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
//	reason    score      limit   meaning
//	NoPalm    Contrast   < 5     palm minus background mean, grey levels
//	TooClose  Area       > 0.53  palm (hand) fraction of the frame
//	TooBright Saturation > 0.10  fraction of palm pixels >= 250
//	TooDark   Brightness < 74    palm mean, grey levels
//	OffCentre Offset     > 0.24  palm disc centre from frame centre / half-diagonal
//	TooFar    Radius     < 0.135 palm disc radius / frame width
//	Moving    Motion     > 0.005 centroid shift / frame width since the previous
//	                             lit frame (1/30 s); the first frame after Reset
//	                             is always Moving
//	Blurred   Focus      < 15    10^4 x mean squared Laplacian / mean^2
//
// # Calibration
//
// The thresholds were set on synthetic captures (vision/synth) from the
// tuning seeds of vision/eval: 120 genuine captures in condition Good (30
// identities x 4 takes) and 12 per bad condition, scoring the second and
// third lit frames of each. Each threshold is the geometric mean of the
// worst Good value and the nearest value of the condition it detects:
//
//	score       Good range       condition it separates from
//	Area        0.26 .. 0.42     too_close 0.66 .. 0.84
//	Saturation  0 .. 0           bright 0.88 .. 0.97 (set at 0.10, not the mean)
//	Brightness  132 .. 190       dark 20 .. 42
//	Offset      0.014 .. 0.185   off_centre 0.32 .. 0.44, partly_out 0.38 .. 0.69
//	Radius      0.161 .. 0.237   too_far 0.070 .. 0.113
//	Motion      0 .. 0.0022      moving 0.011 .. 0.026
//	Focus       25 .. 93         blurred 4.8 .. 8.9
//
// Contrast is 10.6 or more on every dark capture and 1 on the empty
// simulated scanner; 5 keeps a dim palm a TooDark palm. The order puts
// distance before exposure because a palm too near the LEDs also saturates,
// and motion before focus because a moving palm is also blurred. vision/eval
// reports the gate's confusion table on held-out seeds.
package quality
