// Package index is the reference cloud's 1:N search over vision/match
// templates: identification among a million enrolled palms without
// comparing the probe with each of them.
//
// # Method
//
// A filter-and-refine cascade, each stage cheaper per template than the
// next and run on fewer templates, as in hierarchical palmprint
// identification for large databases (J. You, W. K. Kong, D. Zhang and
// K. H. Cheung, "On hierarchical palmprint coding with multiple features
// for personal identification in large databases", IEEE Trans. Circuits
// and Systems for Video Technology 14(2), 2004), with a coarse stage made
// of the template's own orientation field averaged over blocks, as the
// directional image is used for fingerprint retrieval (A. Lumini, D. Maio
// and D. Maltoni, "Continuous versus exclusive classification for
// fingerprint retrieval", Pattern Recognition Letters 18(10), 1997):
//
//  1. Scan. At enrolment the template's 32 x 32 orientation field
//     (Competitive Code) is averaged as doubled angles over overlapping
//     6 x 6 windows to 16 x 16 orientations in the matcher's 3-bit coding
//     (Hamming distance = angular distance): 96 bytes, held with every
//     other template's in one contiguous array. A search computes the
//     probe's code at four fine shifts (±1, ±1) from its own field and
//     reads the array once, 48 XOR and POPCNT per template, split between
//     the cores from 20,000 templates; it keeps 1 in 20 (at least 512).
//     The wide windows make the code tolerant of the matcher's ±3 shift,
//     so the shift search at this stage is four codes, not the matcher's
//     49 shifts.
//  2. Rank. A second code per template with sharper 4 x 4 windows,
//     compared at nine probe shifts (-2, 0, 2 in x and y) on the scan's
//     shortlist only (split between the cores from 20,000); it keeps 1 in
//     250 (at least 64) and finds each one's shift to within a point.
//  3. Sampled fine distance. The matcher's own angular distance on every
//     fourth row at the nine fine shifts around that shift; it keeps 8
//     finalists.
//  4. The matcher. match.Similarity (all 49 shifts, every row) on the
//     finalists; the best at or above match.Threshold is the answer.
//
// The stages only choose which templates the matcher compares: a decision
// is always the matcher's own score, so the index can lose a genuine
// match (it was not kept by a stage) but cannot make a false one that an
// exhaustive search would not make.
//
// # Recall and speed, measured
//
// Test data (testdata/, made by TestGenerate -generate): synthetic
// identities from vision/synth, two captures each through vision/roi;
// the pairs the matcher itself matches are the genuine probes. Two sets
// of different identities: the tuning pairs (pairs.bin.gz, 1,469 pairs),
// on which every constant above was chosen (windows, shifts, the
// fractions kept), and the held-out pairs (heldout.bin.gz), made after
// those choices, on which TestRecall and BenchmarkSearch report. 500 more
// palms (base.bin.gz) have their quadrants recombined at random into any
// number of palm-like filler templates: random codes would be far easier
// to tell apart than palms, and synthetic palms share their structure, so
// these fillers are a hard crowd. The genuine enrolled templates are
// planted among fillers; a probe is lost if the index does not return its
// own enrolment.
//
// TestTune shows the genuine template's rank at each stage on the tuning
// pairs among 100,000 fillers and holds it to half of what the stage
// keeps (measured: scan p99 24, max 1,677 of the 5,000 kept; rank p99 0,
// max 183 of 400; fine max 0 of 8). TestRecall holds the held-out loss to
// at most 0.1 % at 100,000 (5,000 with -short). See README, "The fleet",
// for BenchmarkSearch at 10,000, 100,000 and 1,000,000.
//
// # Limits
//
// Synthetic palms only. The scan's genuine ranks have a long tail (the
// worst tuning pair ranks 1.7 % deep), so the scan keeps 5 %; the
// fractions kept are proportions measured at 100,000 and assumed to hold
// at a million. The 3,107 held-out pairs bound a loss rate to about
// 0.1 % (95 % confidence) when none is lost, 0.15 % when one is. The
// index lives in memory (about 600 bytes a template); Add and Remove need
// the caller's lock, searches run concurrently.
package index
