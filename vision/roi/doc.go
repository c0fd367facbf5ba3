// Package roi finds the palm in a lit NIR frame and cuts out the fixed
// Size x Size palm region that is sealed and sent for matching.
//
// The method follows the palmprint ROI literature (Zhang et al., "Online
// palmprint identification", IEEE TPAMI 2003): the valleys between the
// fingers fix a coordinate system on the palm that does not depend on where
// or how the hand is held.
//
//  1. The frame is halved (area averaging); given an unlit frame too, the
//     unlit copy is subtracted, so the hand is found on the LED response,
//     which a sunlit background does not have (the LEDs' light falls with
//     distance squared). The copy is blurred and thresholded halfway
//     between the background's mean and Otsu's threshold (fingers, whose
//     sides turn away from the LEDs, are dimmer than the palm; a sunlit
//     ceiling is not black); the largest blob, if it is bright enough
//     against the background and big enough, is the hand.
//  2. The distance transform of the hand mask (the frame edge counting as
//     background) gives the palm's inscribed circle: its centre and radius r
//     set the palm's position and scale.
//  3. Convex hull and convexity defects of the hand contour give candidate
//     finger valleys. Contour points on the frame edge count as hull points,
//     because on a close-up scanner the fingers usually run out of the frame.
//     A valley must be deep and at a plausible distance from the palm centre
//     and, when wholly inside the frame, narrow (neighbouring fingers are
//     near parallel; the thumb opens wider) and rising on both sides.
//  4. Of the valleys ordered around the palm centre, the three consecutive,
//     evenly spaced ones spanning the smallest angle whose middle one lies
//     near the line through the outer two (slightly towards the fingers),
//     and whose outer two straddle the palm centre, are the index–middle,
//     middle–ring and ring–little valleys (an upright thumb's valley fails
//     the last test). The line through the outer two gives the rotation and,
//     offset towards the wrist, the centre; the region's side is 1.25 r.
//  5. When two fingers touch, one valley is missing. Two valleys about as far
//     apart as the outer pair are used as the outer pair; two neighbours give
//     the rotation only and the region sits on the inscribed circle. With no
//     usable valleys the principal axis of the hand around the circle gives
//     the rotation, fingers taken to point to the top of the frame.
//  6. If a square 1.2 times the region around it is not inside the frame,
//     the palm is partly out (or the valleys were misread) and Extract
//     returns ErrNotFound. Otherwise the region is warped out of the
//     full-resolution frame at twice Size and area-averaged down to Size,
//     fingers up.
//  7. Given a burst's lit frames (ExtractBurst, as the firmware cuts every
//     capture), the palm is placed in each, and the region taken is the one
//     that agrees with the most others (centres within a tenth of the side,
//     sides within 10 %, directions within 6°), the one placed by more
//     landmarks between equals (three valleys, then the outer pair, then two
//     neighbours, then the principal axis). The valleys are read off a noisy
//     outline: one frame can miss a valley the others show, or read another
//     set of valleys as the fingers', and a region placed that way falls on
//     another patch of the same palm (TestExtractBurstPlacement). The hand's
//     shift in every other frame against that one is measured by phase
//     correlation of the copies segmented in step 1, halved again (the hand's
//     outline registers it even where the palm shows little; the transform of
//     a quarter frame is cheap), the region is cut at the palm's shifted
//     place in each, and the regions are averaged. n frames of equal noise
//     lower it by sqrt(n) (TestExtractBurstAverages: four frames moved by up
//     to 4 pixels halve it; unregistered they would leave 0.65 of it). A
//     burst has six lit frames, two lit by both banks and four by one bank,
//     which carry half the LEDs' light: the lines stand 1.6 (read noise) to 2
//     (shot noise) times higher above the noise than in one frame. The frames
//     lit by one bank are shaded from its side; together they shade the
//     region as both banks do, and the matcher reads the lines' orientation,
//     not the shading. A frame whose hand moved by more than maxDrift is left
//     out.
//  8. The region's shading is taken out: its Gaussian blur of shadeSigma
//     (10 region pixels, about 3.5 mm of palm) is subtracted and its mean
//     level added back (TestFlattenRemovesShading). The matcher's even
//     filters answer the curvature of smooth light as they answer a line,
//     and palms curve alike under the same LEDs: with less noise in the
//     region, that shared shading made strangers' regions agree where
//     their veins are faint (see vision/match).
//
// An Extractor holds its OpenCV buffers from one frame to the next and zeroes
// every copy of the frame (and the hand's outline) before Extract returns.
// With NewExtractorIn they live in the caller's memory (the kiosk's is
// locked: uplink/secmem), sized by WorkspaceSize
// (vision/internal/workspace); each is laid out at the size and type the
// OpenCV call writing it gives it, so that none is reallocated.
//
// Measured with the earlier, procedural vision/synth (before issue 9's
// optics; genuine, lit, frames 0..29, seeds never used for tuning), the
// palm was found on: good 298/300 (the two
// misses are ErrNotFound on hands whose index and middle fingers touch),
// too_far 40/40, off_centre 40/40, moving 40/40, blurred 40/40, dark 39/40,
// bright 40/40, too_close 0/40 and partly_out 0/40 (the palm leaves the
// frame: ErrNotFound, as intended). Regions of one palm match each other far
// above regions of different palms: see vision/match for error rates. About
// 3 in 700 good captures (development sets) still get a misplaced region,
// when touching fingers hide a valley, that does not match the same palm;
// the method is tuned on synthetic hands only.
package roi
