// Package synth renders synthetic near-infrared palm frames and presentation
// attacks, deterministically, for the camera simulator, demos, tests and the
// hardware-in-the-loop runner.
//
// A Capture names whose palm (Identity, see IdentityOf), which take of it
// (Seed: pose, light, noise), what is presented (Genuine or an attack
// species, see Presentation) and under which Condition (Good, a hard but
// acceptable one such as Sunlit or ChildClose, or one pushed out of range:
// TooFar, TooClose, OffCentre, Moving, PartlyOut, Blurred, Dark,
// Bright). NewScene renders the capture once into canonical layers: what
// the room's light shows, what each of the two LED banks adds, and what a
// projector adds. RenderFrame then produces sensor frame n, taken at n x
// FramePeriod with any set of banks lit, by warping those layers to the
// pose of that instant and adding the sensor's black level and noise;
// Render is the older pair-indexed form (pair k at k/30 s, both banks or
// none, lit and unlit of one pair at the same instant) that the firmware
// and vision/eval use today. The same inputs always give byte-identical
// frames, and a Scene may be rendered from several goroutines.
//
// # The kiosk's optics (what is simulated, and why)
//
// Every figure below is an assumption of this model; the source says where
// the number comes from. The red-team generator (vision/redteam) makes its
// own, different assumptions on purpose.
//
//   - Sensor: a 1/4-inch monochrome global-shutter sensor of the OmniVision
//     OV9281 class, 1280 x 800 pixels of 3 um, up to 120 fps at full
//     resolution (OV9281 product brief); read out here at 60 fps, so
//     FramePeriod is 16.7 ms and the LED banks can switch between frames.
//     Global shutter: a frame is one instant, no rolling-shutter skew. The
//     8-bit output has a black level (pedestal) of 16 grey levels, the
//     OV9281's default black-level target of 0x40 at 10 bits, drifting by up
//     to ±1.5 per capture with temperature (BlackLevel, Scene.Exposure).
//   - Noise, after EMVA 1288 (the standard linear camera model): photon
//     shot noise with 30 electrons per grey level at gain 1 (a full well of
//     about 7,700 e-, typical of 3 um pixels), read noise 0.9 grey levels
//     times the gain, a per-row offset of 0.35 grey levels per frame (row
//     noise), dark-signal non-uniformity of 0.4 grey levels and
//     photo-response non-uniformity of 1 % per pixel (fixed pattern: one
//     sensor, the same in every scene).
//   - Lens and filter: a fixed-focus M12 lens of 2.5 mm (836 pixels) at
//     f/2, focused at 150 mm (FocusMM); the blur circle of a hand at d mm is
//     (f/N)·f/(s-f)·|d-s|/d (thin lens), rendered as a Gaussian whose sigma
//     is 0.4 of its diameter plus 0.4 px: wider than a uniform disc's own
//     second moment (sigma a quarter of its diameter) and close to the R/√2
//     (R its radius) that depth-from-defocus work uses (Subbarao and Surya,
//     "Depth from defocus: a spatial domain approach", IJCV 13:271, 1994),
//     so defocus is if anything overstated. Relative illumination falls with
//     the cosine of the field angle (74 % in the corners), applied to the
//     light of surfaces only, not to the ceiling behind them or a
//     projector's light. The kiosk's choice is an 850 nm band-pass filter,
//     50 nm wide (for example Midwest Optical BP850): only 825-875 nm
//     reaches the sensor, so white LED and fluorescent room light barely
//     registers (their spectra end below 780 nm) while sunlight (about
//     0.9 W/m²/nm at 850 nm, ASTM G173) and incandescent lamps do.
//   - Illumination: two banks of 850 nm LEDs (OSRAM SFH 4715AS class, ±45°
//     half-intensity angle, so intensity cos²θ), 35 mm left and right of the
//     lens (BankOffsetMM), pulsed only during the exposure. Irradiance on a
//     surface element falls with the square of its distance to each bank and
//     with the cosine of the incidence angle; both banks together give
//     irradiance 1 (the unit of all light here) to a frontal point on the
//     axis at 150 mm. A bank lights its own side of a palm more, and a
//     curved palm differently from each side; a flat sheet shows only the
//     smooth inverse-square gradient.
//   - Exposure: auto-exposure meters the centre of what is presented under
//     both banks, plus half a projector's light (it flashes on every other
//     frame), and sets exposure (0.05 to 4 ms; MaxExposureMS keeps the
//     LED pulse eye-safe under IEC 62471 and motion blur short) and then
//     analogue gain (1 to 4x) for a mean of 150 grey levels above black
//     (so a projector's film without its flash averages about 100 to 125).
//     A child's palm at 65 to 101 mm, dark skin at 155 to 236 mm or a
//     sunlit hand are therefore still usable. A Dark capture is at the
//     distances of a Good one, with the skin's albedo times 0.7 to 1, but
//     its LEDs give a fiftieth of their light (a failing driver, or the
//     eye-safety limiter) and AE is at its limits, 4 ms at gain 4. Motion
//     blur is the hand's image speed (tremor and drift, or a swing) times
//     the exposure, drawn only above half a pixel (tremor stays below).
//   - Skin: palm skin's diffuse reflectance at 850 nm is 0.44 to 0.62
//     (per person), 0.34 to 0.42 for DarkSkin and 0.6 to 0.68 for
//     FairSkin (Anderson and Parrish, "The optics of human skin", J.
//     Invest. Dermatol. 77:13, 1981: 50 to 60 % at 800 to 900 nm for light
//     skin, about 40 % for dark skin; palms carry less melanin). Light
//     scatters millimetres under the skin (reduced scattering coefficient
//     about 1 mm⁻¹ at 850 nm, Bashkatov et al., J. Phys. D 38:2543, 2005),
//     rendered as "wrap" lighting past the terminator (fingers glow at their
//     edges) and as a Gaussian blur of the veins with sigma 0.012 palm
//     widths: 0.91 to 1.13 mm on adult palms, 0.60 to 0.74 mm on ChildClose
//     ones (scaled with the palm, a simplification: scattering is a property
//     of tissue, in millimetres). Deoxygenated blood absorbs 850 nm far more
//     than tissue (Prahl's haemoglobin tables, omlc.org), so a shallow vein,
//     before scattering blurs it, darkens the skin by 22 to 34 % (per
//     person) under any 850 nm light, LEDs or sun. Deeper veins darken less
//     (down to 70 % of that) and the blur spreads thin ones, so the camera
//     sees a palm's veins at most 10 to 24 % darker than the skin beside
//     them (16 % on average), a typical vein's centre about 8 % darker. The
//     skin surface adds a weak, broad specular sheen (Fresnel about 3 %).
//   - Paper and ink: office and photo paper reflect 0.78 to 0.9 at 850 nm.
//     Dye inks are nearly transparent in the near infrared (the basis of IR
//     document examination): a visible-light photo keeps only 4 to 15 % of
//     its contrast, so PrintedPhoto and GlossyPhoto are almost blank sheets
//     to this camera; glossy paper adds a sharp specular lobe (the LEDs'
//     mirror images). Carbon black toner and 850 nm-absorbing inks do
//     absorb: VeinPrint is a NIR capture of the palm, veins included (the
//     attack of Tome and Marcel, "On the vulnerability of palm vein
//     recognition to spoofing attacks", ICB 2015, on the VERA database),
//     printed so the palm reflects like skin, on white or black-printed
//     background, with toner grain; hand-held (tremor, and a bend that sags
//     up to about 12 mm at the sheet's edge, at most about 3.8 mm across the
//     palm) or mounted (VeinPrintMounted).
//   - Screens: LCD backlights and OLED emitters have no output at 850 nm, so
//     a phone or tablet shows this camera nothing; its glass reflects about
//     4 % specularly ((n-1)²/(n+1)² for n = 1.5) as small mirror images of
//     the LEDs, over a diffuse 2 to 6 % (black matrix, polarisers), in a
//     bezel that is carbon-black or NIR-clear plastic. A replay therefore
//     needs a projector: NIRProjector is matte film (reflectance 0.7 to
//     0.85) lit by the kiosk's LEDs and by an 850 nm projector showing a
//     NIR capture of the palm, flashing on every other frame in step with a
//     guessed strobe phase (Render: with exactly the lit frames, as a fixed
//     pattern allows; RenderFrame: on frames of its guessed parity,
//     whatever the kiosk lit).
//   - Replicas: RigidReplica is a cast of the hand in pigmented silicone
//     (reflectance 0.5 to 0.8, glossier than skin), gelatine (0.3 to 0.5,
//     translucent and wet) or wax (0.7 to 0.85, matte, strongly scattering),
//     with shallow creases, smoothed texture and no veins, mounted still.
//     VeinReplica is the same cast with veins painted on its surface in an
//     850 nm-absorbing paint (sharp-edged, not blurred by tissue), moved by
//     hand.
//   - The room: the palm faces down to the kiosk, so indoors it gets only
//     light bounced up, 0.004 to 0.08 of the LEDs' irradiance in the band
//     (0.002 in Dark's dark room). The ceiling behind the hand is drawn as
//     0.5 to 4 grey levels above black at the first exposure guess and
//     scales with the exposure auto-exposure then sets: about 0.3 to 6
//     behind hands, prints, replicas and projectors, up to about 50 behind a
//     screen replay's dark glass, for which AE opens up, and 1 to 45 in
//     Dark, at AE's limits. Sunlit raises the bounced light to 0.1 to 0.4
//     and adds low sun through a window from one side (0.4 to 1.4) and a
//     bright ceiling (40 to 120 grey levels at the first guess); Bright is
//     direct sun on the scanner, 150 to 300 times the LEDs, which saturates
//     even the shortest exposure.
//   - Motion: a hovering hand trembles (physiological tremor at 4 to 11 Hz,
//     sub-pixel to a few pixels; Elble and Koller, Tremor, 1990) and
//     drifts; a hand-held sheet or replica trembles with its holder's hand;
//     mounted attacks do not move. Moving is a hand swept through at 1.8 to
//     3 Hz, faster than auto-exposure follows: its frames keep the empty
//     volume's longest exposure (4 ms), so they are over-exposed (the palm's
//     centre averages 150 to about 480 grey levels above black before
//     clipping, median about 310, and in most frames nearly all of it
//     clips) and blurred by about 7 to 19 pixels of the 1280-pixel-wide
//     frame.
//
// # The hand model
//
// Canonical hand space has the palm width as unit. The person (Identity)
// fixes: palm width in millimetres and proportions, finger lengths and
// widths, the thumb; three principal palm creases, several secondary ones and
// wrist creases as cubic Bezier curves with per-person control points (after
// BezierPalm); skin texture at three scales; skin albedo; and a vein tree
// grown by space colonisation from the wrist towards attraction points over
// the palm, whose branch radius grows with the number of endpoints
// downstream (after PVTree). The take (Seed) fixes finger spread and
// flexion, distance (palm width 30–44 % of the frame for Good), position,
// in-plane rotation within ±20°, tilt, ambient light and noise. Each
// Condition other than Good changes what its name says and what that
// implies: TooFar and TooClose the distance; OffCentre the distance, x
// position and rotation (±10°); Moving the motion and exposure; PartlyOut
// the distance and position; Blurred the defocus; Dark the albedo, room
// light and LEDs; Bright the room light and ceiling; Sunlit the room light,
// side sun and ceiling; DarkSkin the albedo and distance; FairSkin the
// albedo; DrySkin the creases, texture and sheen; ChildClose the palm size
// and distance; Tilted the tilt; Sleeve the wrist. The hand is a union of
// signed-distance primitives (palm, thenar and hypothenar eminences, tapered
// fingers, thumb, forearm) whose height field gives each point its depth and
// surface normal for the shading above.
//
// NewScene shades everything on a 16-bit canvas of 300 pixels per palm width
// at the pose of frame 0, with defocus and motion blur baked in; rendering
// only warps that canvas with fixed-point bilinear sampling, sums the layers
// of the lit banks and adds black level and noise, so it takes about 15 ms
// per frame and does not allocate. A Scene holds about 5 MB.
//
// # Limits
//
// Real NIR captures differ in ways this model does not follow:
//   - Tilt is an affine foreshortening, not a perspective projection, and the
//     fingers stay in the palm plane apart from foreshortening: no curled
//     fingers, occlusion, or hands seen from the back. Hand motion is rigid:
//     fingers do not move against the palm.
//   - Shading, specular highlights, motion blur and defocus are fixed at the
//     pose of frame 0; large swings (Moving) keep them.
//   - Subsurface scattering is approximated (wrap lighting, blurred veins),
//     not transported; there is no sweat, hair, tattoos or scars, and no
//     blood-volume pulse.
//   - No lens distortion, flare, hot pixels or interlaced LED timing; the
//     AE loop is shown converged (for Moving, not yet started), never
//     mid-adjustment.
//   - Frames are byte-identical for the same inputs on one architecture;
//     another may fuse multiply-adds differently (arm64) and change low bits.
package synth
