// Package eval measures the vision pipeline (quality gate, liveness, palm
// region) on labelled captures and reports ISO/IEC 30107-3 style error
// rates. cmd/palmeval is its command-line front end; TestHeldOutFigures
// asserts the promised figures.
//
// # Protocol
//
// A capture is a sequence of strobed pairs (a lit and an unlit frame of the
// same instant). Pipeline.Run does what the firmware (firmware/capture.go)
// does: it resets the gate and offers it the lit frames of pairs 0, 1, ...
// in order until BurstPairs consecutive ones pass; a failing frame restarts
// the burst at the next pair, and the gate keeps its motion state. The first
// frame never passes (motion needs two), so a good capture passes with
// pairs 1..BurstPairs. That burst goes to liveness and its first lit frame
// to the region extractor. When the pairs run out first, the capture is
// quality-rejected with the gate's last verdict, and liveness still runs on
// its last BurstPairs pairs, so that its error rates cover every capture.
//
// # Figures
//
//   - APCER(PAD), per attack kind: attack captures liveness judged live,
//     over all attack captures of that kind.
//   - APCER(system): attack captures that passed the gate and were judged
//     live, over all of that kind. It is never above APCER(PAD).
//   - BPCER: genuine captures in condition Good that liveness judged not
//     live, over all of them.
//   - Quality-reject rate: genuine Good captures in which no whole burst
//     passed the gate.
//   - ROI found: genuine Good captures that passed the gate and in which
//     vision/roi found the palm region, over those that passed.
//   - The gate's confusion table: for genuine captures, condition by the
//     gate's last verdict.
//
// # Synthetic sets and seeds
//
// SynthSet renders captures with vision/synth: per identity and take one
// capture of each presentation in condition Good, plus, for the first
// Conditions identities, one genuine capture per bad condition. Identity n
// is named "id-n" (synth.IdentityOf); the capture seed packs n, the take,
// the presentation and the condition. Pair k is frame k at 30 fps.
//
// A synthetic capture has SynthPairs pairs, room for GateAttempts burst
// starts. Thresholds were tuned on identities TuningSeedBase.. (1..30, 4 takes, the
// default of cmd/palmeval). TestHeldOutFigures uses identities
// HeldOutSeedBase.. (1000000..1000025, 4 takes: 104 captures per kind, and
// 3 identities x 8 bad conditions), never looked at while tuning.
//
// # External sets
//
// An external set is a directory with a manifest, manifest.csv, and 8-bit
// greyscale frames in binary PGM ("P5", maximum value 1..255, rescaled to
// 0..255) or PNG (greyscale, 8-bit) files, at most 8192 pixels a side. The
// manifest is RFC 4180 CSV with this exact header and one row per capture:
//
//	capture,identity,label,frames
//	c1,alice,genuine,c1/00_lit.png;c1/00_unlit.png;c1/01_lit.png;c1/01_unlit.png;...
//
// The columns:
//
//   - capture: a unique name, 1 to 256 bytes.
//   - identity: whose palm (for an attack: whose palm it copies), 1 to 256
//     bytes.
//   - label: genuine, printed_photo, screen_replay or rigid_replica.
//   - frames: the capture's frames in capture order separated by ';':
//     lit, unlit, lit, unlit, ... (an even number, at least BurstPairs
//     pairs, or the manifest is refused; a capture needs BurstPairs+1 to
//     pass the gate, since the first lit frame never does). Each is a slash-separated path relative to the directory,
//     ending in .pgm or .png (any case), without "..", backslashes or a
//     leading slash; frames are only ever read from inside the directory.
//
// Fields are trimmed of surrounding spaces. All frames of a capture must
// have the same size; 1280 x 800 is the sensor, smaller frames are scored
// the same way (the pipeline works on a 320-pixel-wide copy). External
// captures have no condition: they are counted as Good. cmd/palmeval -out
// writes a synthetic set in this format; testdata/example is one, at 320 x
// 200.
package eval
