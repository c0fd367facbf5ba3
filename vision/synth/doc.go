// Package synth renders synthetic near-infrared palm frames and presentation
// attacks, deterministically, for the camera simulator, demos, tests and the
// hardware-in-the-loop runner.
//
// A Capture names whose palm (Identity, see IdentityOf), which take of it
// (Seed: pose, exposure, noise), what is presented (Genuine, PrintedPhoto,
// ScreenReplay, RigidReplica) and under which Condition (Good, or one factor
// pushed out of range: TooFar, TooClose, OffCentre, Moving, PartlyOut,
// Blurred, Dark, Bright). NewScene renders the capture once into canonical
// layers; Render then produces the 1280x800 lit (850 nm LEDs on) or unlit
// frame of any frame index by warping those layers to the pose of that
// instant and adding sensor noise. The same inputs always give byte-identical
// frames, and a Scene may be rendered from several goroutines.
//
// # The model
//
// Canonical hand space has the palm width as unit. The person (Identity)
// fixes: palm width in millimetres and proportions, finger lengths and
// widths, the thumb; three principal palm creases, several secondary ones and
// wrist creases as cubic Bezier curves with per-person control points (after
// BezierPalm); skin texture at three scales; and a vein tree grown by space
// colonisation from the wrist towards attraction points over the palm, whose
// branch radius grows with the number of endpoints downstream (after PVTree).
// The take (Seed) fixes finger spread and flexion, distance (palm width
// 30–44 % of the frame for Good), position, in-plane rotation within ±20°,
// tilt, defocus, motion blur, exposure, ambient light and noise; each
// Condition other than Good pushes one of these out of the good range.
//
// The hand is a union of signed-distance primitives (palm, thenar and
// hypothenar eminences, tapered fingers, thumb, forearm) whose height field
// gives the shading: the LEDs sit beside the lens, so brightness follows the
// cosine of the surface normal to the camera axis and falls off towards the
// silhouette. Under the LEDs veins darken the skin by 20–35 %, blurred by
// skin scattering; under ambient light alone the frame is dim and veins keep
// only 15 % of their contrast, so they are nearly invisible. Creases
// darken both. A live hand hovers: every frame adds physiological tremor
// (4–11 Hz, sub-pixel to a few pixels, slight rotation and scale) and slow
// drift; lit and unlit frames of one index are the same instant.
//
// The attacks: PrintedPhoto is a visible-light photo of the same palm, with
// creases and shading but no veins, halftoned onto a paper sheet whose edges
// show; it reflects LED and ambient light alike, so the lit/unlit ratio is
// smooth, and it trembles with the holder's hand. ScreenReplay is a tablet
// showing a NIR palm image: it emits the same light with the LEDs off, shows
// its pixel grid and moiré, sits in a dark bezel and reflects the LED ring in
// its glass. RigidReplica is a silicone cast of the hand: the same 3-D
// shading and shallower creases, smoother texture, a slight sheen, no veins
// and no motion at all, so its frames differ only by sensor noise.
//
// NewScene rasterises everything on a 16-bit canvas of 300 pixels per palm
// width (lit and unlit layers, with shading, creases, veins, defocus and
// motion blur baked in); Render only warps that canvas with fixed-point
// bilinear sampling and adds shot and read noise from a per-scene table, so
// it takes a few milliseconds per frame and does not allocate. A Scene holds
// about 3 MB.
//
// # Limits
//
// Real NIR captures differ in ways this model does not follow:
//   - Tilt is an affine foreshortening, not a perspective projection, and the
//     fingers stay in the palm plane apart from foreshortening: no curled
//     fingers, occlusion, or hands seen from the back.
//   - Optics are a Gaussian defocus and a linear motion smear baked in at
//     NewScene; the depth of field does not vary across the hand, and there is
//     no lens distortion, rolling shutter, chromatic focus shift or flare.
//   - The LED pattern, tilt gradient and motion blur are fixed at the pose of
//     frame 0; large swings (Moving) keep them.
//   - Skin is a diffuse reflector with a texture; there is no
//     wavelength-dependent subsurface transport, no sweat, no palmprint
//     ridges below the canvas resolution, no hair, jewellery, sleeves, tattoos
//     or scars. Veins are one layer at one depth per branch.
//   - The sensor has shot and read noise only: no fixed-pattern or row noise,
//     hot pixels, black-level drift, auto exposure or gain control, and no
//     interlaced LED timing.
//   - Frames are byte-identical for the same inputs on one architecture;
//     another may fuse multiply-adds differently (arm64) and change low bits.
//   - Attacks are idealised: real prints may carry NIR-absorbing ink that
//     imitates veins, screens barely emit at 850 nm (the simulated screen
//     glows by design, as the liveness check assumes), and better replicas
//     may embed vein patterns or be moved by hand.
package synth
