package match

import (
	"fmt"
	"image"
	"math"
)

// poseTurns (degrees) and poseShift (region pixels) are the placements
// Poses codes a probe region at besides the one vision/roi gave it.
// Similarity absorbs ±12 pixels of translation but no rotation; a region
// placed by a misread finger valley lies up to about 12° and an eighth of
// its side from where the palm's other captures place it (see the
// package documentation).
var poseTurns = [...]float64{-12, -8, -4, 4, 8, 12}

const poseShift = 16.0

// Poses returns the templates a probe region is compared at: first its
// own (NewTemplate), then the region resampled turned by each of
// poseTurns, and moved by poseShift along each axis at every one of those
// turns and unturned: 35 in all. An identification compares the
// first and, only if it matches nothing, the others (BestOfPoses), so
// that a region placed a little off by vision/roi is still recognised.
// Resampling is bilinear with the border replicated; the copy is zeroed
// before Poses returns.
func Poses(roi *image.Gray) ([]Template, error) {
	own, err := NewTemplate(roi)
	if err != nil {
		return nil, err
	}
	out := make([]Template, 0, (1+len(poseTurns))*5)
	out = append(out, own)
	moved := image.NewGray(image.Rect(0, 0, Size, Size))
	defer clear(moved.Pix)
	turns := append([]float64{0}, poseTurns[:]...)
	shifts := [...][2]float64{{0, 0}, {poseShift, 0}, {-poseShift, 0}, {0, poseShift}, {0, -poseShift}}
	for _, deg := range turns {
		for _, sh := range shifts {
			if deg == 0 && sh == [2]float64{} {
				continue
			}
			resample(moved, roi, deg, sh[0], sh[1])
			t, err := NewTemplate(moved)
			if err != nil {
				return nil, fmt.Errorf("match: pose %v° %v: %w", deg, sh, err)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// resample writes to dst the Size x Size region src turned by deg degrees
// about its centre (counter-clockwise as shown, y pointing down) and
// moved by (dx, dy) pixels.
func resample(dst, src *image.Gray, deg, dx, dy float64) {
	sin, cos := math.Sincos(deg * math.Pi / 180)
	const c = (Size - 1) / 2.0
	b := src.Bounds()
	at := func(x, y int) float64 {
		x = min(max(x, 0), Size-1)
		y = min(max(y, 0), Size-1)
		return float64(src.Pix[src.PixOffset(b.Min.X+x, b.Min.Y+y)])
	}
	for y := range Size {
		for x := range Size {
			// The source point that lands on (x, y): undo the move, then
			// the turn.
			u, v := float64(x)-dx-c, float64(y)-dy-c
			sx, sy := cos*u+sin*v+c, -sin*u+cos*v+c
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			p := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
			dst.Pix[dst.PixOffset(x, y)] = uint8(math.Round(p))
		}
	}
}

// BestOfPoses compares a probe's poses (from Poses) with one enrolment:
// the first pose's BestSimilarity if it reaches Threshold, or else the
// highest over every pose.
func BestOfPoses(enrolled []Template, poses []Template) float64 {
	if len(poses) == 0 {
		return 0
	}
	best := BestSimilarity(enrolled, poses[0])
	if best >= Threshold {
		return best
	}
	for _, p := range poses[1:] {
		best = max(best, BestSimilarity(enrolled, p))
	}
	return best
}
