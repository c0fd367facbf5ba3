// Package redteam is a second generator of labelled NIR captures, written
// apart from vision/synth with its own, deliberately different assumptions,
// so that the liveness and quality thresholds (tuned on vision/synth's
// tuning seeds only) can be scored on physics they never saw. Nothing is
// ever tuned on it. vision/eval scores it like any other set; cmd/palmeval
// -generator redteam selects it.
//
// # How it differs from vision/synth
//
// Rendering: each capture is shaded once directly at 640 x 400 (a 2 x 2
// binned sensor) as frame-sized layers (room light, left and right LEDs,
// projector), and every frame shifts those layers by the hand's motion at
// that instant (translation only) before adding noise. There is no canonical
// canvas, no affine pose warp and no Bezier creases or grown vein tree.
//
// Hand: a union of a super-ellipse palm, capsule fingers and thumb and a
// forearm; a height field of one ellipsoidal dome plus a thenar bulge and
// round finger cylinders; veins as branching random walks from the wrist;
// three creases as circular arcs; a per-person speckle texture.
//
// Assumptions (each is a guess made independently of vision/synth):
//   - LEDs: the kiosk's hardware specification is shared (two banks 35 mm
//     left and right of the lens, the 836-pixel lens), but each bank is
//     four LEDs on a 10 mm square rather than a point, with emission cos θ
//     (wider than synth's cos² θ).
//   - Sensor: black level 10 to 22 grey levels (reported with the capture
//     as the sensor's optical-black rows would), read noise 1 to 3 grey
//     levels, 20 to 45 electrons per grey level, no fixed-pattern noise;
//     auto-exposure aims at 120 to 190 grey levels and caps the total gain
//     (exposure x gain) at 12 x a 150 mm palm's need.
//   - Skin: NIR albedo 0.35 to 0.65 (dark skin 0.30 to 0.38, fair skin
//     0.60 to 0.70), vein absorption 12 to 40 %, veins blurred by
//     scattering (two passes of a 3 or 5 mm box on a 1 mm grid: sigma
//     about 1.15 or 2 mm); a skin sheen of 2 to 6 %.
//   - Room: indoor light in the band 0 to 0.15 of the LEDs; "sunlit" up to
//     2.5 from any side; presence sensor noise ±5 mm.
//   - Motion: tremor 6 to 12 Hz at 0.1 to 0.6 mm, drift up to 3 mm/s (each
//     per axis); mounted attacks vibrate by 0.02 mm (a building, a fan).
//     These are stated at 150 mm: they are turned into pixels as if the
//     hand were there, so on a hand at 75 to 240 mm they scale with the
//     distance (tremor 0.05 to 0.96 mm).
//   - Attacks: dye prints keep 0 to 25 % of their contrast at 850 nm;
//     hand-held prints curve as a parabola across the sheet, its side
//     edges up to 6.4 mm further from the lens than its middle; vein
//     prints absorb like skin with veins; glossy paper's lobe has an
//     exponent of 100 to 1000; screens may leak 850 nm from their
//     backlight, up to 4 % of what the LEDs give a white sheet at 150 mm,
//     which auto-exposure scales like the rest: up to 15 grey levels at
//     the exposure a 150 mm palm of albedo 0.5 needs, and up to twelve
//     times that where a dark screen drives the exposure to its cap;
//     projectors either
//     guess an alternating phase or stay on continuously; casts have
//     albedo 0.4 to 0.9, gloss 1 to 8 % with exponents 20 to 200; painted
//     veins absorb 20 to 50 %.
//
// The generator is deterministic per (identity, take, label, condition).
package redteam
