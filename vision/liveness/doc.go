// Package liveness tells a live hand from a presentation attack over a short
// burst of NIR frames.
//
// # Challenge-response bursts
//
// CheckBurst reads a Burst: BurstFrames frames, each lit as a pattern drawn
// at random when the capture starts (NewPattern, from crypto/rand): two
// frames with every LED off, two with the left bank, two with the right
// bank and two with both, in random order (2,520 orders). Light that is
// replayed or projected cannot follow a pattern it does not know, and the
// banks lit separately show the surface's shape. The Burst carries the
// sensor's black level, which is subtracted from every frame before any
// difference or ratio: without it a dim room leaves a print's printed
// creases in a lit/unlit ratio.
//
// Check is the older form: BurstPairs strobed pairs, both banks then none,
// in a fixed order. It measures the same features except Shape (no frame
// lit by one bank) and with a fixed pattern a projector flashing on every
// other frame is consistent; firmware should move to CheckBurst (see the
// README).
//
// # Features
//
// Every buffer made of the frames (the downscaled copies, the float images,
// gradients, the Square cue's palm square) is zeroed before CheckBurst
// returns; with NewCheckerIn they live in the caller's memory (the kiosk's
// is locked: uplink/secmem), sized by WorkspaceSize
// (vision/internal/workspace). OpenCV's scratch memory inside a call is
// its own. Square, which reads the full-resolution frame into buffers of
// its own, runs on the Checker's goroutine while the other cues are
// measured on the small copies: a burst costs about a sixth less on two
// cores (README "Benchmarks"). Close stops that goroutine.
//
// Every frame is downscaled to 320 pixels wide (vision/internal/downscale),
// the black level subtracted, and averaged per state (off, left, right,
// both). The room's light is the "off" mean; the LED response is left +
// right (and both) minus the room. The palm is where the response is above
// its mean; the features are measured on a square around its centroid of
// side 0.6 x sqrt(palm area).
//
//   - Response: mean LED response on the palm (grey levels). A screen's
//     display emits nothing at 850 nm and its glass reflects the LEDs away,
//     so it answers less than skin; what is left (vision/synth's screens
//     33 .. 78 on the tuning seeds, hands 82 and more) is above the bound,
//     and Specular, Glossy and Veins refuse them. Below 20: NoResponse.
//   - Emission: room-light level over LED response. Above 2: EmitsLight.
//     It guards Shape and Veins rather than catching a species: on the
//     tuning seeds and the red-team range the README never reports
//     (identities 8,000,000 .. 8,000,119) no attack is refused by it
//     alone. Auto-exposure keeps the lit frames near its target, so the
//     more light the room (or a flood lamp) adds, the smaller the LED
//     response and the larger the shot noise on it. Noise in the banks'
//     asymmetry reads as relief: a flat carbon print under a flood eight
//     times the LEDs' response at a gain of 6 scores Shape 1.16 .. 1.54
//     (6 of 8 seeds above the Flat bound), against 0.10 .. 0.13 without a
//     flood and 0.37 .. 0.48 at 2. Noise in the LED response reads as
//     absorbers: a dye print, blank at 850 nm, scores Veins 0.40 without
//     a flood, 2.4 .. 2.6 at 2 (the NoVeins bound), 4.6 .. 4.8 at 4 and
//     8.4 .. 8.8 at 8 (4 seeds each; TestEmissionGuardsShapeAndVeins).
//     The cost: a real hand in low sun can exceed 2 (vision/synth's
//     sunlit hands reach 0.82 on the tuning seeds, the red team's 1.19
//     on its identities 8,000,000 .. 8,000,059; its sun, up to 2.5 times
//     the LEDs, takes some further), and the red team's held-out run refuses 2 of its 21
//     sunlit hands here. Measured and not taken: Shape unbiased by
//     noise, from the product of the residuals of two halves of the burst
//     (each half one frame of each bank and one unlit, so their noise is
//     independent) rather than the square of the residual of their mean.
//     It scores those flooded carbon prints 0.00 at floods of 0, 2 and 8
//     and leaves the tuning seeds' hands as they were (1.69 .. 4.20), but
//     it called 12 of 240 genuine hands flat on the red team's identities
//     8,000,000 .. 8,000,059 (none without it; the halves of a hand that
//     moves are frames apart, and their residuals need not line up: not
//     looked into further). And Veins still rises with the flood, so the
//     bound could not move for Shape alone. Letting the bound go needs
//     Veins judged against its own noise floor too (for instance Veins of
//     the difference of two frames lit alike, which holds the noise and no
//     absorber).
//   - Consistency: the largest difference of the palm's mean level between
//     two frames lit alike, over the response (x 100). Reflected light
//     repeats; a projector flashing to its own guess of the pattern adds
//     light to one frame of a state and not the other, by tens of per
//     cent of the response. A hand that moves between two frames lit
//     alike changes it by a few per cent at most: coming closer at 20
//     mm/s at 150 mm, 0.5 % a frame at 60 fps, so up to 3 % between the
//     first and the last frame of a burst. Above 3.8: Inconsistent.
//   - Specular: per mille of the palm square that one LED bank alone
//     saturates (>= 250 in a frame lit by that bank only). A mirror image
//     of a bank in glass or glossy paper is as bright under that bank
//     alone as under both; a diffuse palm gets half the light from one
//     bank, so a palm the auto-exposure let run over with both banks lit
//     (held close, tilted towards the LEDs) is not counted, nor a pixel
//     the room's light alone takes half-way to saturation (sun on the
//     hand: the LEDs add to light already there). Above 2: Specular.
//     Bursts without single-bank frames (the legacy pairs) count
//     saturation in frames lit by both banks.
//   - Shape: a plane is fitted to the asymmetry (L-R)/(L+R) of the left and
//     right banks' responses over the palm square; Shape is the residual's
//     RMS (x 100). The inverse-square gradient a flat sheet, screen or
//     projected image shows is a plane; a palm's eminences, hollow and
//     finger bases turn towards one bank or the other. For banks b either
//     side of the lens at distance d, a surface turned by an angle a has an
//     asymmetry of about (b/d)·tan a, so a burst that carries the presence
//     sensor's distance (Burst.DistanceMM) has Shape multiplied by
//     d/ShapeRefMM (150 mm): it measures the surface, not how close it is
//     held (a child's palm at 80 mm is not "glossy" for being near). The
//     left and right banks light different frames, between which a
//     hand-held surface moves, and a ratio of two images that do not
//     line up shows their edges (a print's veins and creases) as relief.
//     So the right bank's mean is first registered on the left's: each
//     is divided by its smoothed self, which keeps the texture they share
//     and drops the shading in which they differ, and the translation is
//     found by a whole-pixel search (up to 3 small pixels) and three
//     Gauss-Newton steps. Below 1.26: Flat.
//   - Gloss: Shape over the palm square's pixels where the LEDs (both
//     banks) give at least as much light as the room does. Above 6,
//     Glossy: a highlight that jumps between the banks, as on a cast
//     glossier than skin. A highlight of the LEDs is LED light, so every
//     one is kept, and in a dim room Gloss is Shape. Where the room's light
//     dominates, it is not measured at the instant of the lit frames it is
//     subtracted from (the unlit frames come before or after them), and a
//     hand that moves in between leaves the gradients of its shading in
//     each bank's response, which the asymmetry reads as relief (see
//     Calibration). -1, not judged, when fewer than 10 pixels qualify.
//   - Veins: how strongly something under the surface absorbs 850 nm,
//     relative to the skin's own response around it. Per pixel of the LED
//     response (black level and room light removed, so the LEDs' power,
//     the skin's albedo and the exposure cancel), the black-hat (13 x 13
//     ellipse: structure narrower than a finger) over the closing, that is
//     1 - I/I_around: the absorber's contrast. Veins is its 97th percentile
//     (%) over the whole palm (a square of side sqrt(palm area), pixels at
//     least half its mean response, so the gaps between fingers are left
//     out): it asks whether there is any vein-wide absorber of blood-like
//     contrast, not how many veins there are, so a hand with a few veins
//     scores like one with many. Deoxygenated haemoglobin absorbs 850 nm
//     far more than the tissue around it (Prahl, "Optical absorption of
//     hemoglobin", omlc.org; veins darken skin by tens of per cent in NIR
//     vein imaging: Kono et al., "Near-infrared finger vein patterns for
//     personal identification", Appl. Opt. 41:7429, 2002), whatever the
//     light source; dye inks are transparent at 850 nm (a photo prints
//     nearly blank), screens show nothing, bare casts have no absorber.
//     Below 2.6: NoVeins.
//   - Square: the shape of the absorbers' cross-sections, at the frame's
//     full resolution. Skin scatters 850 nm light over millimetres (its
//     reduced scattering coefficient is 1 to 2 mm⁻¹: Bashkatov et al.,
//     "Optical properties of human skin, subcutaneous and mucous tissues
//     in the wavelength range from 400 to 2000 nm", J. Phys. D 38:2543,
//     2005), so a vein 1 to 3 mm under it shows a rounded profile that
//     fades gradually to its edges; paint on a cast lies on the surface
//     with sharp edges and a flat bottom. On one frame lit by both banks
//     (the per-state averages would blur edges the hand moved between
//     frames), a square of side 0.8 x sqrt(palm area) is resampled to 320
//     pixels (about 0.28 mm each on an adult palm) and the absorbers'
//     contrast taken as for Veins (a 31-pixel square closing). On every
//     other ridge pixel of the strongest absorbers (the Hessian gives the
//     direction across) the cross-section is followed both ways; Square is
//     the median, over cross-sections 1.8 to 2.8 mm wide at half depth, of
//     their width at 85 % depth over their width at half depth. It does not
//     depend on the contrast: on test scenes like the package's (absorbing
//     15 to 45 %) a Gaussian profile gives 0.45 .. 0.47, a narrow
//     cylinder's blurred by at least half its radius 0.47 .. 0.49, a stripe
//     4 to 7 pixels wide with sharp edges 0.62 .. 0.79. Above 0.5:
//     PaintedVeins. The bound comes from those profiles, not from a fit:
//     just above what a blurred profile gives, so that a hand (or a
//     renderer) whose veins are blurred like a Gaussian passes. Why only
//     narrow absorbers: a vein's profile is the chord through a cylinder
//     of radius R blurred by the skin above it, and computed in one
//     dimension (contrast proportional to the chord) it gives 0.61
//     unblurred, 0.56 at a blur of sigma = 0.3 R, 0.50 at 0.53 R and 0.49
//     from 0.67 R on, with a width at half depth of 1.7 to 1.9 R when
//     sigma is under 0.55 R. Skin blurs a vein 1 mm or more deep by a
//     sigma of 1 mm or more, so a vein that scores above 0.5 is at least
//     3.4 mm wide at half depth: a large vein under thin skin can be that
//     wide and nearly square, and is not judged (TestSquareJudgesNarrowAbsorbers);
//     an absorber at most 2.8 mm wide with a square profile cannot be a
//     vein under skin. Paint only in stripes wider than that is the
//     cue's blind spot, and left to the others.
//   - Motion: the largest translation (fraction of frame width x 1000)
//     registering a frame on the first frame lit alike, by one Lucas-Kanade
//     step: a hovering hand trembles, a mounted attack does not. Below
//     0.31: NoMicroMove. A hand's tremor can pause for one burst, so a
//     capture refused only for this takes StillRetakes more bursts before
//     it is called an attack (the firmware and vision/eval both do).
//
// # Which cues catch which species
//
// A Result names the first failed check (Reason) and holds every failed
// one (Failed): an attack refused by one check alone rests on that
// check's assumption. cmd/palmeval reports, per species, the share two or
// more checks refused and APCER(PAD) as it would be without the check
// that alone refuses most.
//
// On vision/synth (tuning seeds), each attack species fails these cues:
//
//	species              cues it fails
//	printed_photo        veins (dye is transparent at 850 nm), shape (flat)
//	glossy_photo         veins, specular, shape (flat or glossy)
//	screen_replay        specular, glossy, veins (for 55 of 60)
//	vein_print (held)    shape (flat); specular when its sheet catches a highlight
//	vein_print_mounted   shape (flat), motion
//	nir_projector        consistency (random pattern), shape (flat), motion
//	rigid_replica        motion; glossy or specular for silicone and gelatine; veins for
//	                     28 % (a cast's creases shade like absorbers)
//	vein_replica         square (sharp-edged paint); glossy or specular for glossier casts
//
// A hand-held carbon vein print is caught by its flatness alone: no second
// independent cue was found for it within this work (a depth cue from the
// presence sensor and the inverse-square law, or subsurface scattering
// measured with structured light, would be candidates). One tried and
// dropped: paper bends without stretching (its Gaussian curvature is 0), so
// the asymmetry left after the plane should vary along one direction only;
// the share of it a one-direction fit leaves did not separate them on the
// tuning seeds (hands 0.10 .. 0.57, hand-held carbon prints 0.06 .. 0.57):
// both generators bend a sheet quadratically, which the plane already
// removes, and what is left is noise in both. A cast with painted
// veins is caught by Square where its paint lies in stripes 1.8 to 2.8
// mm wide, as a painted vein tree's branches do.
//
// A bare cast that is not glossy is caught by its stillness alone, so a
// hand moving one would defeat it. Veins as a second cue was measured on
// the tuning seeds (vision/synth identities 31 .. 60 and the red team's
// 8,000,000 .. 8,000,029, two takes each; 2026-12-05) and does not hold:
// the red team's casts that only Motion refuses (26 of 60) score Veins
// 7.4 .. 17.0 against its hands' 8.8 and up, because a cast keeps the
// hand's creases and its shading dips, which the black-hat takes for
// absorbers. Leaving out the absorbers too narrow to be a vein under
// skin (a closing of 3 or 5 small pixels, 2 to 4 mm, before the
// black-hat) moved both alike (casts 5.8 .. 13.2, hands 6.6 and up); a
// black-hat of 7 pixels (about 5 mm) instead of 13, which keeps
// vein-wide absorbers and drops the shading, separated synth's (hands 2.0
// and up, casts at most 0.8) but not the red team's, whose faint veins
// then scored like bare casts (hands from 1.8, 17 of 120 below 2.6;
// casts 1.4 .. 3.4). What the red team's hands lack here is what its
// matcher misses lack (vision/match): vein contrast above the texture.
//
// Square sampled the palm at 0.45 mm a pixel and judged every absorber
// at least 1.8 mm wide until the painted casts the other cues pass were
// looked at again: they were sharper than any hand in good light by the
// gate's focus measure (70 .. 255 against 16 .. 47 on the tuning seeds at
// 640 px), their stripes just too narrow for 0.45 mm sampling to keep
// their edges. Of the 26 tuning casts (of 60) that the other cues pass,
// 14 reached the bound at 0.45 mm, 22 at 0.35 mm and 25 at 0.28 mm, with
// the hands there at most 0.45; rendering at 1280 px without finer
// sampling gave 13, so the sampling, not the frame, limited it.
// Sharpness itself is no cue: the gate's focus measure counts the
// sensor's noise as detail, and on the red team's identities 8,000,000 ..
// 8,000,059 dark palms far away (high gain) reach 216 where its painted
// casts give 18 .. 344 and its genuine hands mostly 12 .. 52. Sampled
// finely, though, a wide vein shows the profile it physically has, and on
// the red-team range the README never reports (identities 8,000,000 ..
// 8,000,029, 120 genuine) hands rose from at most 0.48 to 0.50, at the
// bound. Judging only absorbers too narrow to be square under skin (at
// most 2.8 mm; see Features) removes that: hands there at most 0.45 (and
// 0.48, 0.49 with the limit at 3.4 and 3.9 mm), the 26 tuning casts all
// at 0.54 .. 0.66, red-team casts at 0.56 and more. The ridge pixels are
// taken as a checkerboard, so that a frame costs about 10 % more than with
// the coarse square (886 against 802 µs for gate and liveness; README
// "Benchmarks") rather than 28 %; taking every fourth pixel left too few
// cross-sections on 12 of those red-team hands. Two variants were measured
// and dropped: the 75th percentile of the cross-sections rather than
// their median separated the tuning seeds (hands 0.45 .. 0.50, casts 0.51
// .. 0.59) and refused 83 of those 120 red-team hands; keeping only
// symmetric cross-sections (junctions and tips give lopsided ones) moved
// a hand of identities 31 .. 130 from 0.38 to 0.45 .. 0.52 and the casts
// that pass there to 0.50 .. 0.57, too little margin. On tuning identities 31 .. 130 (painted casts and good hands
// only), 6 of 200 casts still pass with Square 0.43 .. 0.49: few narrow
// cross-sections, half of them through tips and junctions of the paint.
// Leaving out ridge pixels whose Hessian curves along the ridge by more
// than half as much as across it (tips, junctions, spots) let 2 of those
// 200 through, kept the tuning seeds' hands at 0.46 and below and their
// casts at 0.55 and above, but left 6 of the 120 red-team hands with too
// few cross-sections to judge, and no test scene of the package showed a
// difference with it. Measured again on the wider range (2026-12-07,
// identities 31 .. 280, two takes, 500 good hands and 500 painted casts,
// and the red team's 8,000,000 .. 8,000,059): 8 of the 500 casts passed
// instead of 11, hands stayed at 0.46 and below, but 18 of the red team's
// 240 hands (and 2 of synth's 500) were left unjudged instead of none:
// not taken. Looked at, those
// casts carry the vein tree painted in lines mostly 1 to 1.8 mm wide,
// below the judged widths, where a hand's creases lie too. Measured on
// the same identities and dropped: the same ratio over cross-sections 1
// to 1.8 mm wide gives hands 0.42 .. 0.46 and those casts 0.46 .. 0.52
// (1280-px frames: 0.42 .. 0.46 and 0.48), no margin, and below what a
// Gaussian profile gives (0.48), so a real crease blurred like one would
// be refused; 2.8 to 4 mm wide, casts 0.20 .. 0.69 against hands 0.31 ..
// 0.47; and the 97th percentile of the contrast left after a closing of
// 5 to 9 pixels (1.4 to 2.5 mm: only what is wider than the paint) did
// not separate them either (7 pixels: hands 11.0 .. 23.0, the casts the
// other cues pass 11.8 .. 19.6).
//
// What is left is the lens's depth of field (2026-12-05, vision/synth
// identities 31 .. 280, two takes, 500 painted casts: 11 accepted, 2.2 %,
// as on the held-out seeds). Every one of the 11 was held away from the
// fixed focus at 150 mm (117 .. 128 or 168 .. 190 mm), where the defocus
// is 0.7 .. 1.2 sensor pixels (sigma, 0.15 .. 0.25 mm on the palm); none
// of the 282 casts with less defocus passed. 8 of the 11 are wax, which
// is matte (no Glossy or Specular to fall back on). Defocus and the cue's
// own 3 x 3 smoothing round the paint's edges towards a Gaussian; a vein
// under skin only gets rounder, so the bound cannot move for it. Measured
// and not taken: 1280-px frames (8 of 10 of those identities' misses
// stay); no smoothing (the misses rise to 0.47 .. 0.71, but the noise
// lifts hands of identities 31 .. 60 to 0.54); profiles taken from the
// unsmoothed contrast averaged over 5 pixels along the ridge (the misses
// 0.42 .. 0.50, hands up to 0.49); and the burst's lit frames averaged,
// each registered to the first to a whole pixel by phase correlation, and
// then not smoothed, so that averaging rather than smoothing takes the
// noise out (2026-12-06; vision/synth identities 31 .. 280, 500 good
// hands and 500 painted casts, and the red team's 8,000,000 .. 8,000,029):
// with the two frames both banks lit, every cast the other cues pass
// scored 0.50 or more, but 9 of the 500 hands reached 0.50 .. 0.58 and 3
// of the red team's 23 such casts fell to 0.42 .. 0.46 (the hand moves
// between frames); with all six lit frames, hands reached 0.74. What
// lifts a hand's profiles is not only the noise. Optics would help where
// software does not: at f/4 instead of f/2 the blur circle halves across
// the capture volume, for four times the exposure.
// The held-out figures in the README show what is left.
//
// Square reads the lit frame as it is, the room's light included, and that
// was measured against the alternative (2026-12-06). The red team's sunlit
// genuine captures of identities 8,000,060 .. 8,000,999 (269, a range the
// README never reports) score higher the more the room lights them: mean
// 0.29 where Emission is under 0.5, 0.34 above, up to 0.60; 4 of them are
// refused as painted_veins. That generator's low sun shades the palm's
// outline, where it joins palm, fingers and wrist, in sharp lines. On the
// lit frame less the unlit frame nearest it in time (the LEDs' light
// alone, which meets the palm almost along the view and shades no groove),
// those 269 score 0.25 whatever the room (at most 0.39) and none is
// refused for it; hands elsewhere move down too (red team 8,000,000 ..
// 8,000,059: mean 0.29 to 0.27; vision/synth identities 31 .. 280: 0.38 to
// 0.37). But painted casts then pass more often: the red team's accepted
// 25 of its 1,880 on identities 8,000,060 .. 8,000,999 instead of 7 (2 of
// 120 instead of 1 on 8,000,000 .. 8,000,059; vision/synth 11 of 500
// either way), with Square falling by up to 0.42. Part of it is the hand's
// motion between the two frames (of 5 casts that fell below 0.5, 3 stay
// above it when rendered held still), part the unlit frame's noise: a flat
// bottom read through noise looks rounder, its deepest point standing out
// (noise of 1, 2 and 3 grey levels added to the lit frame alone takes one
// cast from 0.56 to 0.53, 0.52 and 0.50). The mean of both unlit frames
// did the same (no sunlit hand refused for it; 2 of 120 casts). Not taken:
// what the sunlit hands gain, the attacker gains more
// (TestPaintStaysSquareInRoomLight, in vision/redteam, holds four of those
// casts to painted_veins; with the subtraction it fails 4 of 4).
// Registering the unlit frame on the lit one would only address the
// motion. Nor does reading the ridge's depth less noisily help: taken as
// the mean of its value and the two half a pixel across from it, it raises
// the package's test profiles alike (a Gaussian's from 0.46 .. 0.47 to
// 0.48 .. 0.49, blurred paint's from 0.50 .. 0.54 to 0.52 .. 0.55), but
// the tuning hands of identities 31 .. 280 from at most 0.46 to 0.54 and
// the red team's (8,000,000 .. 8,000,059) to 0.51, while the painted casts
// no other cue refuses stay among them (7 of 500 at or below 0.50, 11 at
// or below 0.52).
//
// Square came after edge-sharpness measures that did not separate genuine
// hands from painted casts; they are recorded here because the reason they
// failed shaped it. Veins lie
// millimetres under the skin, whose scattering blurs their edges; paint on
// a cast is sharp. Measured at the frames' full resolution on the palm
// square, in millimetres of hand (the palm's apparent size), as the fine-
// (0.3 mm) over mid-scale (1 mm) gradient on the strongest mid-scale
// edges, it did not separate the two on the tuning seeds (15 identities,
// 640 px): genuine 1.18 .. 2.08, painted casts the other cues pass 2.00 ..
// 2.17; 1280 px frames (10 identities) gave the same values, so resolution
// is not what limits it. Keeping only wide absorbers (darker than their
// 3 mm surround by 3 % or more, no darker at the fine scale) or counting
// the share of sharp edges did not separate them either (genuine up to 3.4
// and 0.94, those casts from 2.9 and 0.57). The reason: a hand's creases
// are sharp absorbers too, as sharp as a cast's paint (a cast's own creases
// are shallow), and weigh in any edge statistic over the palm; a vein-only
// statistic would first have to tell a vein from a crease. Square does: it
// compares two widths within one cross-section rather than gradients, so a
// narrow crease (a Gaussian of any width scores 0.48) is not taken for
// paint. Two variants of it were measured and dropped: the share of all
// absorber pixels within 15 % of their local depth separated the tuning
// seeds better, but only because a hand's creases and texture count too,
// and it gave clean Gaussian veins 0.41 .. 0.46, for which a hand with
// smooth skin would be refused; smoothing the contrast before following
// the cross-sections made painted casts and hands overlap.
//
// A later try came closest and still fails: the fine (0.5 px) over coarse
// (2 px) gradient at edges kept by non-maximum suppression, of absorbers at
// least 3 px (1 mm) wide at 640 px, with no narrow line nearby. On 8
// tuning identities genuine hands gave 1.46 .. 2.11 and painted casts
// 2.10 .. 2.59: no margin, and scaling the width limit with the palm's
// size made the overlap larger.
//
// Telling them apart by relief cannot be tested here yet. A real crease is
// a fold whose walls the two banks shade differently, so (L-R)/(L+R) would
// change sharply across it while a vein or paint darkens both banks alike;
// but neither generator gives creases relief (both darken reflectance
// only), so the asymmetry cancels them like veins (crease changes at most
// 0.006 .. 0.011 on identities 1..5 of the tuning seeds). In bursts its
// gradient does rise at sharp absorbers, creases and paint alike (median
// 0.005 .. 0.015 and 0.005 .. 0.019), because the hand moves between the
// left and right frames. Testing it needs crease grooves in the
// generators' height fields first, then real captures. Those renders also
// show that the sharp absorbers are a hand's creases and a cast's paint:
// a cast's creases are shallow (6 .. 10 % darker, its paint 25 .. 45 %).
//
// # Decision
//
// Each feature becomes a margin m (value / threshold, or threshold / value
// for an upper bound) and a score m / (1 + m), 0.5 at the threshold. Score
// is the weakest of them; Live is Score >= 0.5. Reason is the first failing
// check in the order response, emission, consistency, specular, flat,
// glossy (on Gloss), veins, square, motion. A feature the burst cannot measure is -1 and not
// judged.
//
// # Calibration
//
// The ranges below are from 60 captures per attack species, 60 genuine in
// condition Good and 60 in hard conditions, of the tuning seeds of
// vision/eval (identities 1..30, 2 takes; 640 px wide), with Shape scaled
// by distance and Specular counted on single-bank frames. Each threshold,
// except those the paragraphs after the table name, is the geometric mean
// of the nearest bona fide and attack values of the feature that attack is
// meant to fail:
//
//	feature      bona fide (good and hard)   attacks it separates
//	Shape        1.69 .. 4.21               prints 0.20 .. 0.94, projector (consistent) 0.35 .. 0.40; glossy casts 5.2 .. 34
//	Veins        5.6 .. 19.6                dye and glossy prints 0.4 .. 1.2; screens 0 .. 5.6, casts 1.6 .. 19.6
//	Motion       0.34 .. 2.61               mounted 0.00 .. 0.24
//	Consistency  0.01 .. 0.43               projector (inconsistent) 33 and more
//	Square       0.28 .. 0.46               painted casts 0.40 .. 0.66 (those the other cues pass 0.54 .. 0.66)
//	Specular     0                          glass and glossy paper 24 .. 156
//
// Motion's bound (0.31) is the rule's on an earlier table (bona fide 0.43
// .. 2.7, mounted 0.007 .. 0.23) and was not derived again when the table
// was refreshed: it still lies between the ranges above, on which the rule
// would give 0.29. Specular's (2), Response's (20) and Emission's (2) are
// not fitted by the rule, and how they were chosen is not recorded: the
// rule would put Specular's at 0, and Response and Emission have no row.
// They are physical bounds with margin beyond the bona fide range, which
// on the captures above is Specular 0, Response 82 .. 153 grey levels and
// Emission 0.003 .. 0.82 (the highest sunlit).
//
// Consistency's bound was 1.5 before, not the geometric mean; it refused
// hands that moved between frames on the red-team range the README never
// reports (identities 8,000,000 .. 8,000,059, 240 genuine: up to 1.73, in
// sunlight, where the room's light on a moving hand changes too; projectors
// there 21 and more when inconsistent). Set by the rule, on the tuning
// seeds' values, it is 3.8.
//
// Shape's registration came after the red-team range showed hand-held
// carbon prints passing as not flat (Shape up to 2.75 on identities
// 8,000,000 .. 8,000,029), with their printed edges standing out in the
// asymmetry; registered, the same prints give at most 0.73 and the
// genuine hands there 1.54 and more. On the tuning seeds it moved prints
// from 0.20 .. 1.18 to 0.20 .. 0.94 and hands from 1.76 .. 4.45 to 1.69
// .. 4.21, and the rule moved the bound from 1.44 to 1.26; one tuning
// vein_replica cast (Shape 1.37) now passes where the old bound refused
// it as flat.
//
// Square's bound (0.5) is not fitted either: it is just above what blurred
// profiles give (see Features), and it leaves the painted casts below it
// to the other cues. On the red-team range the README never reports
// (identities 8,000,000 .. 8,000,029, 120 genuine) genuine hands give 0.17
// .. 0.45 and painted casts 0.56 .. 0.73. The closing is a square rather
// than an ellipse because it costs about 2 ms less a burst; on the same
// captures, at the earlier 0.45 mm sampling, the ellipse refused two of
// those genuine hands (0.52, 0.55) and caught three more of the 60
// tuning casts.
//
// Glossy's bound (6) is not a geometric mean: matte casts overlap the
// bona fide range, so it sits above the genuine maximum with margin. The
// geometric mean with the glossiest casts (4.8, from the hands' 4.45
// before Shape's registration; 4.7 on the table above) was tried on a
// red-team range the README never reports (identities 8,000,000 ..
// 8,000,029): it refused 8 of 120 genuine hands there against 3 at 6, and
// caught 3 more of the 60 tuning vein_replica casts, so 6 stayed.
//
// Glossy's bound is judged on Gloss, not Shape, since Glossy turned out to
// be what refused most sunlit hands, and not for gloss (2026-12-06, the
// red team's sunlit genuine captures of identities 8,000,060 .. 8,000,999,
// a range the README never reports: 269 captures). Judged on Shape, 19
// were refused (7.1 %): 12 as glossy and by nothing else, 4 painted_veins,
// one each emits_light, specular (and glossy) and inconsistent. Rendered
// again with the hand held still, one of the 269 scored Shape above 6
// (6.07): the room's light is measured in the unlit frames, at other
// instants than the lit frames it is subtracted from, and under a low sun
// a moving hand's shading leaves its gradients in each bank's response.
// Judged on Gloss, those 13 score 2.1 .. 4.7 (Shape 6.0 .. 13.1), none of
// the 269 is above 5.1, and 7 are refused (2.6 %). On the tuning seeds
// (identities 1..30, every species) and the red team's identities
// 8,000,000 .. 8,000,059, no attack is accepted that was refused before
// (Glossy leaves the failed checks of 2 synth and 3 red-team projectors and
// 2 red-team screens, all refused by others); the tuning seeds' hands score
// Gloss = Shape (at most 4.21); one red-team hand in a dim room is still
// glossy (9.7), as before. Emission's bound refused 1 of the 269. Tried
// before and not taken:
//   - registering the room light's mean on each bank's mean (texture over
//     its 3-pixel blur, a whole-pixel search and three Gauss-Newton
//     steps, as Shape registers the banks): 11 of the 12 fall below 6
//     (2.6 .. 5.9), but 6 other hands rise above it (to 9.8): the sun's
//     shading and the LEDs' differ, and the registration locks on either;
//   - registering every lit frame on the first and placing each unlit frame
//     where the lit frames around it in time were: Shape above 6 for 10
//     instead of 13 (4 of them new);
//   - taking the room light of each lit frame from the unlit frames
//     interpolated in time, without registration: 33 above 6;
//   - judging Shape net of how much the room light changes between the
//     two unlit frames (their difference in place of noise): it called
//     73 of the 269 flat, since those frames can be seven frames apart;
//   - Flat judged over those pixels too: 1 of the 269 flat (none was),
//     and 26 where the room's light may be up to half the LEDs' (much of a
//     palm's relief is where the sun is too). So Flat judges every pixel;
//     what the room's light adds there can only make a sheet look less
//     flat, which is what Emission's bound guards against (above).
//
// The noise itself is measured well by the same kind of difference, once
// the two frames are registered: on flooded blank sheets
// (TestEmissionGuardsShapeAndVeins's scenes) the robust deviation of the
// registered half-difference of the two left-lit and two right-lit frames,
// in Shape's units, gave 0.39 .. 0.42 against Shape 0.35 .. 0.42 at a flood
// of twice the LEDs' response, 1.20 .. 1.37 against 1.09 .. 1.35 at eight
// times; unregistered, a moving printed sheet read 8 where its Shape was
// 1.2. That is the noise floor Emission's paragraph above asks for, kept
// for when sunlit hands fail for Emission rather than motion.
//
// No threshold was tuned on the reported vision/redteam range or on
// held-out seeds; vision/eval and the README report both. Design choices
// that were not blind: the Veins cue's region (the whole palm rather than
// the central square) was chosen after a 10-identity red-team run showed
// sparse veins outside the square; Shape's distance scaling, Specular's
// single-bank rule and the gate's segmentation on the LED response
// (vision/quality) were written after the 8,000,000 range showed close
// children's palms refused as glossy, over-exposed tilted palms as
// specular and sunlit hands as too close; Shape's registration was
// written after that range showed moving prints as not flat; Square's region (0.8 x sqrt(palm
// area) at 320 pixels), its sampling, its width limit, its closing and
// its choice of cross-section ratio over the variants above were compared
// on that range as well as on the tuning seeds. Each follows from the optics stated above; each
// threshold was set on the tuning seeds, Square's on test profiles.
package liveness
