// Package index is the reference cloud's 1:N search over vision/match
// templates: identification among a million enrolled palms without
// comparing the probe with each of them.
//
// # Method
//
// A cascade (filter and refine), each stage cheaper per template than the
// next and run on fewer templates:
//
//  1. Coarse code. At enrolment the template's 32 x 32 orientation field
//     is averaged over 2 x 2 blocks (as doubled angles) to 16 x 16
//     orientations, coded in three bits with the matcher's coding (Hamming
//     distance = angular distance), 96 bytes. A search compares the probe's
//     coarse code with every enrolled one at the nine coarse shifts of
//     -1..1 blocks (±2 matcher points; the matcher searches ±3): twelve
//     XOR, AND and POPCNT of 64-bit words a shift. The nearest 1 % (at
//     least 256) form the shortlist.
//  2. Sampled fine distance. For each shortlisted template, the matcher's
//     own angular distance on every fourth row, at the nine fine shifts
//     within one point of twice the coarse shift found in stage 1. The
//     nearest 8 are the finalists.
//  3. The matcher. match.Similarity (all 49 shifts, every row) on the
//     finalists; the best at or above match.Threshold is the answer.
//
// The stages only choose which templates the matcher compares: a decision
// is always the matcher's own score, so the index can lose a genuine
// match (it was not shortlisted) but cannot make a false one that an
// exhaustive search would not make.
//
// # Recall and speed, measured
//
// Test data (testdata/, made by TestGenerate -generate): 1,500 synthetic
// identities from vision/synth, two captures each through vision/roi
// (1,469 pairs that the matcher matches: the genuine probes), and 500 more
// palms whose quadrants are recombined at random into any number of
// palm-like filler templates. Random codes would be far easier to tell
// apart than palms; synthetic palms share their structure, so these
// fillers are a hard crowd. The genuine enrolled templates are planted
// among fillers; a probe is lost if the index does not return its own
// enrolment.
//
// Measured on this 2-core machine (AMD EPYC) while other builds and tests
// were running on it (load average 4 to 9): see README, "The fleet", for
// the figures of BenchmarkSearch at 10,000, 100,000 and 1,000,000.
// TestRecall holds the loss to at most 0.1 % at 100,000 (5,000 with
// -short).
//
// # Limits
//
// The shortlist fraction (1 %) was chosen from the genuine probes' ranks
// by coarse distance among 100,000 fillers (99.9 % within the first
// 0.5 %, all within 0.9 %): measured on synthetic palms only. 1,469 genuine
// probes bound a loss rate only to about 0.2 % (95 % confidence) when
// none is lost. The index lives in memory (about 500 bytes a template);
// Add and Remove need the caller's lock, searches run concurrently.
package index
