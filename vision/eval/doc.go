// Package eval measures the vision pipeline (quality gate, liveness, palm
// region) on labelled captures and reports ISO/IEC 30107-3 style error
// rates. cmd/palmeval is its command-line front end; TestHeldOutFigures
// asserts the promised figures.
//
// # Protocol
//
// A capture is a sequence of strobed pairs (a lit and an unlit frame) and,
// for synthetic sets, a way to render any sensor frame with any LED banks.
// Pipeline.Run resets the gate and offers it the lit frames of pairs 0, 1,
// ..., each with its pair's unlit frame and the presence sensor's distance
// (quality.Gate.CheckAt), until a run of good frames passes; a failing frame restarts the run at the next pair.
// For a synthetic capture the run is GateRun (2) frames, and then a
// challenge-response burst of liveness.BurstFrames frames follows on the
// next sensor frames, lit as a pattern drawn for the capture
// (liveness.PatternFrom, seeded from the capture so that an evaluation is
// reproducible; the firmware uses liveness.NewPattern) and judged by
// liveness.CheckBurst with the capture's black level and distance. A
// recorded capture that carries its burst (see External sets) is judged
// the same way on the burst it recorded, once (no second burst for a hand
// that held still). For a recorded capture without one the run is
// BurstPairs pairs, which are the liveness burst (the older
// liveness.Check; a fixed pattern cannot show the bank or
// challenge-response cues). The burst's lit frames go to the region
// extractor, which averages them as the firmware does
// (roi.Extractor.ExtractBurst), and a bona fide capture's region to the
// matcher. When the
// pairs run out first, the capture is quality-rejected with the gate's
// last verdict, and liveness still runs, so that its error rates cover
// every capture.
//
// # Figures (ISO/IEC 30107-3)
//
//   - APCER(PAD), per attack species: attack captures liveness judged live,
//     over all attack captures of that species.
//   - APCER(system): attack captures that passed the gate and were judged
//     live, over all of that species. Never above APCER(PAD). The worst
//     species is reported too.
//   - BPCER: bona fide captures (genuine in condition Good or a hard
//     condition) that liveness judged not live, over all of them; also
//     split, with the quality-reject rate, by the capture's condition
//     (Report.Conditions: ISO/IEC 19795-1 reports error rates per
//     subgroup, and a check that refuses dark skin or a child's hand more
//     often than others shows only there).
//   - BPCER at APCER 1 % and 5 %: the liveness BPCER at the lowest score
//     threshold at which every species' APCER(PAD) is at most that rate.
//   - Quality-reject rate: bona fide captures in which no run passed the
//     gate.
//   - ROI found: bona fide captures that passed the gate and in which
//     vision/roi found the palm region, over those that passed.
//   - Matcher: per identity the first match.EnrolCaptures bona fide regions
//     (in capture order) are enrolled and later ones probe every enrolment (FNMR, FMR at
//     match.Threshold), the FNMR also split by the probe's condition.
//   - The gate's confusion table: for genuine captures, condition by the
//     gate's last verdict.
//   - Independent checks: per attack species, the share of captures two or
//     more liveness checks refused, and APCER(PAD) as it would be without
//     the check that alone refused the most of them (Report.SoleCheck).
//   - What the run shows: one-sided 95 % upper confidence bounds
//     (Clopper-Pearson, vision/internal/stats) on APCER(system) per
//     species, BPCER, the quality-reject rate and the matcher's FNMR and
//     FMR. A species with no error in 150 captures is shown below 1.98 %,
//     not below 1 %: ISO/IEC 19795-1 asks for the uncertainty beside the
//     rate.
//
// Report.WriteJSON prints the figures as one JSON object (rates as
// fractions): {"generator", "species": {label: {"captures", "apcer_pad",
// "apcer_system", "apcer_system_upper95", "refused_by_two_checks", "sole_check",
// "apcer_pad_without_sole_check"}}, "bona_fide": {"captures", "bpcer", "quality_reject",
// "roi_found", "bpcer_upper95", "quality_reject_upper95", "by_condition":
// {condition: {"captures", "bpcer", "quality_reject"}}}, "worst_species",
// "bpcer_at_apcer_1", "bpcer_at_apcer_5", "matcher": {..., "fnmr_upper95",
// "fmr_upper95", "fnmr_by_probe_condition": {condition: {"genuine_comparisons",
// "misses", "fnmr"}}}}; Report.WritePlot draws a DET plot as SVG.
//
// # Synthetic sets and seeds
//
// SynthSet renders captures with vision/synth: per identity and take one
// capture of each presentation in condition Good and one genuine capture
// in a hard condition (Sunlit .. Sleeve in turn), plus, for the first
// Conditions identities, one genuine capture per bad condition. Identity n
// is named "id-n" (synth.IdentityOf); the capture seed packs n, the take,
// the presentation and the condition. Below synth.Width frames are rendered
// binned (synth.Scene.RenderBinned), which the gate's and liveness's
// 320-pixel copies cannot tell from a downscaled full frame.
//
// Thresholds were tuned on identities TuningSeedBase.. (1..30, the default
// of cmd/palmeval). TestHeldOutFigures uses HeldOutSet (identities
// 1000000..1000074, 2 takes: 150 captures per species, 300 bona fide),
// never looked at while tuning. vision/redteam is a second generator with
// its own assumptions, scored the same way and never tuned on.
//
// # External sets
//
// An external set is a directory with a manifest, manifest.csv, and
// greyscale frames in binary PGM ("P5", maximum value 1..65535: a 10-bit
// sensor's frames are saved with 1023) or PNG (greyscale, 8 or 16 bits)
// files, at most 8192 pixels a side; every frame is rescaled to 0..255, as
// the kiosk's camera driver reduces 10- and 16-bit frames to 8 bits. The
// manifest is RFC 4180 CSV with one of these two headers, exactly, and one
// row per capture:
//
//	capture,identity,label,frames
//	c1,alice,genuine,c1/00_lit.png;c1/00_unlit.png;c1/01_lit.png;c1/01_unlit.png;...
//
//	capture,identity,label,frames,burst,distance_mm,black_level
//	c1,alice,genuine,c1/00_lit.png;...,left:c1/b0.png;off:c1/b1.png;both:c1/b2.png;...,152,14.50
//
// The columns:
//
//   - capture: a unique name, 1 to 256 bytes.
//   - identity: whose palm (for an attack: whose palm it copies), 1 to 256
//     bytes.
//   - label: genuine, printed_photo, screen_replay, rigid_replica,
//     vein_print, vein_print_mounted, glossy_photo, nir_projector or
//     vein_replica (synth.Presentation's names).
//   - frames: the capture's frames in capture order separated by ';':
//     lit, unlit, lit, unlit, ... (an even number, at least BurstPairs
//     pairs, or the manifest is refused; a capture needs BurstPairs+1 to
//     pass the gate, since the first lit frame never does). Each is a slash-separated path relative to the directory,
//     ending in .pgm or .png (any case), without "..", backslashes or a
//     leading slash; frames are only ever read from inside the directory.
//   - burst (second header only): empty, or the challenge-response burst
//     the kiosk took after those pairs, as the firmware does: exactly
//     liveness.BurstFrames frames separated by ';', each state:path with
//     state off, left, right or both (the LED banks lit while it was
//     exposed), two of each state, in the order they were taken. A
//     recording without it cannot show the cues that need the banks lit
//     separately or a pattern drawn at random (a hand-held print of a
//     vein image is refused only for its flatness, which needs them).
//   - distance_mm: empty (unknown) or the presence sensor's reading, whole
//     millimetres 1 to 1000, passed to the gate and to liveness.
//   - black_level: empty (liveness.DefaultBlack) or the sensor's black
//     level on the 0..255 scale the frames are rescaled to, 0 to below
//     255 (a 10-bit sensor's black level of 64 is written 16).
//
// Fields are trimmed of surrounding spaces. All frames of a capture must
// have the same size; 1280 x 800 is the sensor, smaller frames are scored
// the same way (the pipeline works on a 320-pixel-wide copy). External
// captures have no condition: they are counted as Good. cmd/palmeval -out
// writes a synthetic set in the second format, each capture's burst drawn
// as the pipeline draws it; testdata/example is one in the first, at 320
// x 200, of the four original kinds (ExampleKinds).
package eval
