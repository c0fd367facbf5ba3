package liveness

import (
	"image"
	"math"

	"github.com/palmd/palmd/vision/internal/workspace"
	"gocv.io/x/gocv"
)

// The Square cue's geometry, in pixels of the palm square resampled to
// squareSize, whose side is squareSide x sqrt(palm area): about 0.28 mm a
// pixel on an adult palm, whatever the frame's resolution or distance.
const (
	squareSize   = 320
	squareSide   = 0.8
	squareClose  = 31   // closing's square: wider than a vein
	squareMin    = 0.06 // absorbers at least this much darker than the skin around them
	squareStrong = 0.5  // ... and at least this fraction of the 97th percentile's contrast
	squareDeep   = 0.85 // the depth whose width is compared with the half depth's
	squareWide   = 6.4  // cross-sections at least this wide at half depth (1.8 mm) ...
	squareNarrow = 10.0 // ... and at most this wide (2.8 mm), pixels: see measure
	squareReach  = 16.0 // how far a cross-section is followed each way, pixels
	squareBins   = 100  // histogram of the ratio, bins of 0.01
)

// square holds the Square cue's buffers, all squareSize x squareSize
// float32: the palm square, its smoothed copy, its closing and the
// absorbers' contrast.
type square struct {
	img, sm, closing, contrast gocv.Mat
	kernel                     gocv.Mat
	hist                       [histBins]int32
	ratios                     [squareBins]int32
	cols                       [squareSize][2]int // source columns of each resampled column
	sums                       []uint32           // a resampled row's sums per source column
}

// newSquare returns a square with its kernel; layout gives it buffers.
func newSquare() square {
	return square{kernel: gocv.GetStructuringElement(gocv.MorphRect, image.Pt(squareClose, squareClose))}
}

// layout takes the buffers for frames w pixels wide from s.
func (s *square) layout(sp *workspace.Space, w int) {
	for _, m := range s.mats() {
		*m = sp.Mat(squareSize, squareSize, gocv.MatTypeCV32F)
	}
	s.sums = workspace.Slice[uint32](sp, w)
}

func (s *square) mats() [4]*gocv.Mat {
	return [4]*gocv.Mat{&s.img, &s.sm, &s.closing, &s.contrast}
}

func (s *square) wipe() {
	for _, m := range s.mats() {
		m.SetTo(gocv.Scalar{})
	}
	clear(s.sums)
	clear(s.hist[:])
	clear(s.ratios[:])
}

// free zeroes and closes the buffers layout took.
func (s *square) free() {
	s.wipe()
	for _, m := range s.mats() {
		m.Close()
	}
	s.sums = nil
}

// close frees the kernel; free has freed the buffers.
func (s *square) close() { s.kernel.Close() }

// measure tells veins under skin from absorbers on the surface by the
// shape of their cross-sections. Skin scatters 850 nm light over
// millimetres, so a vein 1 to 3 mm under it shows a rounded profile whose
// darkening fades gradually to its edges; paint on a cast has sharp edges
// and a flat bottom.
//
// The square of the given side (frame pixels) centred at (cx, cy) is
// resampled from frame to squareSize pixels (area averaging), the black
// level subtracted, and smoothed (3 x 3 Gaussian). Per pixel, the contrast
// C = 1 - I/closing(I) is the absorber's darkening relative to the skin
// around it, whatever the light or the skin's albedo. On each ridge pixel
// of the strong absorbers (C at least squareMin and squareStrong of its
// 97th percentile, a maximum across the ridge, whose direction the Hessian
// gives), the cross-section is followed both ways until C falls to
// squareDeep and to half of the ridge's value. Square is the median over
// cross-sections squareWide to squareNarrow wide at half depth of (width
// at squareDeep) / (width at half depth): 0.48 for a Gaussian profile,
// 0.24 for an exponential one, near 1 for a sharp-edged stripe, whatever
// its contrast. -1 when fewer than 20 cross-sections qualify.
//
// Only narrow absorbers are judged because only for them does physics
// forbid a square profile under skin: a vein of radius R under skin that
// blurs it by sigma scores above 0.5 only when sigma < 0.53 R, and its
// width at half depth is then about 1.8 R, so with sigma at least 1 mm
// (a vein 1 mm or more deep) it is at least 3.4 mm wide. A large vein
// under thin skin may be that wide and nearly square; paint 1.8 to 2.8 mm
// wide cannot be a vein.
func (s *square) measure(frame *image.Gray, cx, cy, side, black float64) float64 {
	b := frame.Bounds()
	w, h := b.Dx(), b.Dy()
	step := side / squareSize
	// Source columns and rows of each resampled pixel, clipped to the frame.
	span := func(o float64, i, limit int) (int, int) {
		a := int(math.Floor(o + float64(i)*step))
		e := max(a+1, int(math.Floor(o+float64(i+1)*step)))
		return max(a, 0), min(e, limit)
	}
	for x := range squareSize {
		s.cols[x][0], s.cols[x][1] = span(cx-side/2, x, w)
	}
	// Each resampled row: the rows' sums per source column, then each
	// column span's sum of those (sums fits the frame's width: see
	// Checker.layout).
	defer clear(s.sums)
	lo := min(s.cols[0][0], w)
	hi := max(lo, s.cols[squareSize-1][1])
	img, _ := s.img.DataPtrFloat32()
	for y := range squareSize {
		out := img[y*squareSize : (y+1)*squareSize]
		r0, r1 := span(cy-side/2, y, h)
		if r1 <= r0 {
			clear(out)
			continue
		}
		sums := s.sums[lo:hi]
		clear(sums)
		for yy := r0; yy < r1; yy++ {
			off := frame.PixOffset(b.Min.X+lo, b.Min.Y+yy)
			for i, v := range frame.Pix[off : off+len(sums)] {
				sums[i] += uint32(v)
			}
		}
		for x, c := range s.cols {
			v := 0.0
			if c[1] > c[0] {
				var sum uint32
				for _, t := range s.sums[c[0]:c[1]] {
					sum += t
				}
				v = max(float64(sum)/float64((r1-r0)*(c[1]-c[0]))-black, 0)
			}
			out[x] = float32(v)
		}
	}
	gocv.GaussianBlur(s.img, &s.sm, image.Pt(3, 3), 0, 0, gocv.BorderReflect)
	gocv.MorphologyEx(s.sm, &s.closing, gocv.MorphClose, s.kernel)
	sm, _ := s.sm.DataPtrFloat32()
	cl, _ := s.closing.DataPtrFloat32()
	cp, _ := s.contrast.DataPtrFloat32()
	var mean float64
	for _, v := range sm {
		mean += float64(v)
	}
	// Pixels darker than half the square's mean are off the hand or
	// between the fingers.
	half := float32(mean / float64(len(sm)) / 2)
	defer clear(s.hist[:])
	n := 0
	for i, v := range sm {
		cp[i] = 0
		if v >= half && cl[i] > 0 {
			cp[i] = max(0, 1-v/cl[i])
			s.hist[min(int(cp[i]*500), histBins-1)]++
			n++
		}
	}
	rank, acc, p97 := int32(veinRank*float64(n)), int32(0), float32(histBins)/500
	for b, v := range s.hist {
		acc += v
		if acc > rank {
			p97 = float32(b) / 500
			break
		}
	}
	return s.ratio(cp, max(squareMin, squareStrong*p97))
}

// ratio is the median cross-section ratio over the ridges of contrast cp
// at or above floor; see measure.
func (s *square) ratio(cp []float32, floor float32) float64 {
	const n = squareSize
	defer clear(s.ratios[:])
	kept := 0
	// Every other pixel, as a checkerboard: a ridge's neighbouring pixels
	// give nearly the same cross-section, and following them all costs
	// twice the time.
	for y := 2; y < n-2; y++ {
		for x := 2 + y%2; x < n-2; x += 2 {
			i := y*n + x
			v := cp[i]
			if v < floor {
				continue
			}
			// The Hessian's most negative eigenvalue: its eigenvector
			// crosses the ridge.
			cxx := float64(cp[i+1] - 2*v + cp[i-1])
			cyy := float64(cp[i+n] - 2*v + cp[i-n])
			cxy := float64(cp[i+n+1]-cp[i+n-1]-cp[i-n+1]+cp[i-n-1]) / 4
			tr, det := cxx+cyy, cxx*cyy-cxy*cxy
			l := tr/2 - math.Sqrt(max(tr*tr/4-det, 0))
			if l >= 0 {
				continue
			}
			ex, ey := cxy, l-cxx
			if math.Abs(ex)+math.Abs(ey) < 1e-12 {
				ex, ey = l-cyy, cxy
			}
			norm := math.Hypot(ex, ey)
			if norm == 0 {
				continue
			}
			ex, ey = ex/norm, ey/norm
			fx, fy := float64(x), float64(y)
			if bilinear(cp, fx+ex, fy+ey) > v || bilinear(cp, fx-ex, fy-ey) > v {
				continue // beside the ridge, not on it
			}
			aDeep, a50 := reach(cp, fx, fy, ex, ey, v)
			if a50 < 0 {
				continue
			}
			bDeep, b50 := reach(cp, fx, fy, -ex, -ey, v)
			if b50 < 0 || a50+b50 < squareWide || a50+b50 > squareNarrow {
				continue
			}
			s.ratios[min(int((aDeep+bDeep)/(a50+b50)*squareBins), squareBins-1)]++
			kept++
		}
	}
	if kept < 20 {
		return -1
	}
	var acc int32
	for b, h := range s.ratios {
		acc += h
		if 2*int(acc) > kept {
			return float64(b) / squareBins
		}
	}
	return 1
}

// bilinear samples the squareSize-wide image p at (x, y); -1 outside.
func bilinear(p []float32, x, y float64) float32 {
	const n = squareSize
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	if x0 < 0 || y0 < 0 || x0 >= n-1 || y0 >= n-1 {
		return -1
	}
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	i := y0*n + x0
	return (p[i]*(1-fx)+p[i+1]*fx)*(1-fy) + (p[i+n]*(1-fx)+p[i+n+1]*fx)*fy
}

// reach returns how far from (x, y) along (dx, dy) the profile of p first
// falls below squareDeep and below half of c0, interpolated between
// half-pixel steps; half is -1 when the profile does not fall to half
// within squareReach or leaves the square.
func reach(p []float32, x, y, dx, dy float64, c0 float32) (deep, half float64) {
	prev := float32(1)
	deep = -1
	for t := 0.5; t <= squareReach; t += 0.5 {
		v := bilinear(p, x+t*dx, y+t*dy)
		if v < 0 {
			return -1, -1
		}
		r := v / c0
		if deep < 0 && r < squareDeep {
			deep = t - 0.5*float64((squareDeep-r)/max(prev-r, 1e-6))
		}
		if r < 0.5 {
			return deep, t - 0.5*float64((0.5-r)/max(prev-r, 1e-6))
		}
		prev = r
	}
	return -1, -1
}
