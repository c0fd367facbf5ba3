// Package liveness tells a live hand from a presentation attack (a printed
// photo, a screen replay, a rigid replica) over a short burst of strobed NIR
// frames: BurstPairs pairs of a lit (LEDs on) and an unlit (LEDs off) frame
// of the same instant.
//
// # Features
//
// Every frame is downscaled to 320 pixels wide (a 4 x 4 box average for
// 1280 x 800, see vision/internal/downscale); the lit and the unlit frames
// are summed over the burst. The palm is where the summed lit image is
// brighter than its mean; the features are measured on it, or on a square
// around its centroid of side 0.6 x sqrt(palm area), well inside the palm.
//
//   - Emission: unlit / lit on the palm. Skin only reflects, so with the LEDs
//     off a hand is as dark as the room (0.09 to 0.19 on synth data); a
//     screen emits its own light and stays bright (0.94 to 0.97).
//     Threshold 0.40: above it, Reason EmitsLight.
//   - Response: mean lit minus unlit per pair on the palm, grey levels. Skin,
//     paper and silicone answer the LEDs (70 and more); a screen barely does
//     (4 to 6). Threshold 25: below it, NoResponse.
//   - Veins: 100 x the black-hat energy (13 x 13 ellipse, wider than the
//     veins at this scale) of lit / (unlit + 1 per pair), both smoothed with
//     a Gaussian of sigma 2, over the square, divided by the mean ratio.
//     Reflectance (creases, ink, skin tone) multiplies both frames and
//     cancels in the ratio; veins absorb 850 nm under the LEDs far more than
//     under room light and remain. Live hands score 0.54 to 1.26; prints
//     0.07 to 0.23, screens 0.26 to 0.49, silicone 0.09 to 0.38. Threshold
//     0.28: below it, NoVeins.
//   - Motion: 1000 x the largest translation (as a fraction of the frame
//     width) that registers a later lit frame on the first, by one
//     Lucas-Kanade step over the square. A hovering hand trembles (0.4 to
//     2.8); a mounted replica does not move beyond the noise (0.01 to 0.06).
//     Threshold 0.18: below it, NoMicroMove.
//
// A screen's pixel grid and a print's halftone are finer than a small pixel
// and vanish in the box average; they are not measured: emission and the
// vein ratio already separate those attacks with wide margins on synth data,
// and a full-resolution spectrum would cost more than the whole check.
//
// # Decision
//
// Each feature becomes a margin m (value / threshold, or threshold / value
// for emission) and a score m / (1 + m), 0.5 at the threshold. Score is the
// weakest of the four; Live is Score >= 0.5. Reason is the first failing
// check in the order emission, response, veins, motion.
//
// The ranges above are from 40 captures per presentation on the tuning
// seeds; vision/eval reports the error rates on held-out seeds and how the
// thresholds were chosen (the geometric mean of the nearest live and attack
// values).
package liveness
