// Package match is the palm matcher the reference cloud uses: it turns a
// palm region (the Size x Size ROI from vision/roi) into a Template and scores
// two templates with Similarity.
//
// The method is Competitive Code (Kong and Zhang, "Competitive coding scheme
// for palmprint verification", ICPR 2004). Palm lines and NIR veins are dark,
// elongated structures; at each point of a 32 x 32 grid the region is filtered
// with six zero-mean Gabor filters at orientations k*pi/6 and the orientation
// with the most negative response (the dominant dark line) is kept. Each
// orientation is stored in three bits chosen so that the Hamming distance
// between two codes equals their angular distance (0..3), which makes matching
// a few XORs and popcounts per row. Similarity searches translations of up to
// ±3 grid points (±12 ROI pixels) to absorb residual ROI misalignment, and
// maps the best normalised angular distance d to 1-2d, clamped to [0, 1], so
// 0 means no more agreement than chance and 1 means identical codes. The
// method was chosen because it is published, simple, needs no training, and
// is insensitive to brightness and contrast (only the winning orientation is
// kept).
//
// A Template encodes to 389 bytes (MarshalBinary): "PCC", a version byte, the
// grid side, then three bit planes of 32 little-endian uint32 rows.
package match
