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
//     off a hand is as dark as the room (0.08 to 0.19); a screen emits its
//     own light and stays bright (0.95 to 0.96). Threshold 0.43: above it,
//     Reason EmitsLight.
//   - Response: mean lit minus unlit per pair on the palm, grey levels. Skin,
//     paper and silicone answer the LEDs (70 and more); a screen barely does
//     (4 to 6). Threshold 25: below it, NoResponse.
//   - Veins: 100 x the black-hat energy (13 x 13 ellipse, wider than the
//     veins at this scale) of lit / (unlit + 1 per pair), both smoothed with
//     a Gaussian of sigma 3 (noise would dominate otherwise), over the
//     square, divided by the mean ratio. Reflectance (creases, ink, skin
//     tone) multiplies both frames and cancels in the ratio; veins absorb
//     850 nm under the LEDs far more than under room light and remain. Live
//     hands score 0.20 to 0.83; prints 0.008 to 0.075, screens 0.09 to 0.21,
//     silicone 0.05 to 0.37. Threshold 0.12: below it, NoVeins.
//   - Motion: 1000 x the largest translation (as a fraction of the frame
//     width) that registers a later lit frame on the first, by one
//     Lucas-Kanade step over the square. A hovering hand trembles (0.54 to
//     2.7, and a hand-held print as much); a mounted replica does not move
//     beyond the noise (0.012 to 0.083). Threshold 0.21: below it,
//     NoMicroMove.
//
// A screen's pixel grid and a print's halftone are finer than a small pixel
// and vanish in the box average, so they are not among the features. A
// spectral measure was tried on 40 captures per kind: the strongest peak
// over the mean power between 0.12 and 0.4 cycles per pixel of a windowed
// 128 x 128 full-resolution patch at the palm centre. It ranged 151 to 1332
// on screens and 374 to 777 on prints, but up to 319 on live hands (palm
// edges and creases make peaks too): a 1.2x margin, against 2.6x for the
// vein ratio on prints and 5x for emission on screens, so it would add
// false rejections without catching anything the other features miss.
//
// # Decision
//
// Each feature becomes a margin m (value / threshold, or threshold / value
// for emission) and a score m / (1 + m), 0.5 at the threshold. Score is the
// weakest of the four; Live is Score >= 0.5. Reason is the first failing
// check in the order emission, response, veins, motion.
//
// # Calibration
//
// The ranges above are from the 120 captures per presentation (condition
// Good) of the tuning seeds of vision/eval (identities 1..30, 4 takes; pairs
// 1..4 of each). Each threshold is the geometric mean of the nearest live
// and attack values of the feature that attack is meant to fail. Printed
// photos are caught by the vein ratio alone (factor 2.6 between the weakest
// hand and the strongest print), screens by emission and response, rigid
// replicas by motion (factor 6.5) and mostly also by the vein ratio.
// vision/eval reports the error rates on held-out seeds.
package liveness
