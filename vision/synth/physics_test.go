package synth

import (
	"image"
	"math"
	"testing"
)

// blocks averages g over b×b blocks, which removes most sensor noise.
type blocks struct {
	w, h int
	v    []float64
}

func blockMeans(g *image.Gray, b int) blocks {
	w, h := g.Rect.Dx()/b, g.Rect.Dy()/b
	out := blocks{w: w, h: h, v: make([]float64, w*h)}
	for y := range h * b {
		for x := range w * b {
			out.v[(y/b)*w+x/b] += float64(g.Pix[y*g.Stride+x])
		}
	}
	for i := range out.v {
		out.v[i] /= float64(b * b)
	}
	return out
}

// highPass subtracts from each block the mean of its (2r+1)² neighbourhood.
func (b blocks) highPass(r int) blocks {
	out := blocks{w: b.w, h: b.h, v: make([]float64, len(b.v))}
	for y := range b.h {
		for x := range b.w {
			var s float64
			var n int
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < b.w && yy < b.h {
						s += b.v[yy*b.w+xx]
						n++
					}
				}
			}
			out.v[y*b.w+x] = b.v[y*b.w+x] - s/float64(n)
		}
	}
	return out
}

// palmROI is the square at the centre of the palm at frame 0, in block
// coordinates.
func palmROI(s *Scene, b int) image.Rectangle {
	p := s.params.motion.at(s.params.pose, 0)
	h := 0.22 * p.scale
	r := image.Rect(int(p.cx-h)/b, int(p.cy-h)/b, int(p.cx+h)/b, int(p.cy+h)/b)
	return r.Intersect(image.Rect(0, 0, Width/b, Height/b))
}

func (b blocks) stats(r image.Rectangle) (mean, std float64) {
	var s, ss float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			v := b.v[y*b.w+x]
			s += v
			ss += v * v
		}
	}
	n := float64(r.Dx() * r.Dy())
	mean = s / n
	return mean, math.Sqrt(max(ss/n-mean*mean, 0))
}

// litOnlyStructure measures the structure in the lit frames that the unlit
// frames of the same instants, scaled to the same brightness, do not explain:
// veins answering the LEDs. It averages a burst of pairs to lower sensor
// noise and returns the residual's spread relative to the palm brightness and
// its correlation with the lit frame's own structure (high when the residual
// is veins, near zero when it is noise).
func litOnlyStructure(s *Scene) (spread, corr float64) {
	const b, n = 8, 12
	var lit, unlit blocks
	for f := range n {
		l, u := blockMeans(render(s, f, true), b), blockMeans(render(s, f, false), b)
		if f == 0 {
			lit, unlit = l, u
			continue
		}
		for i := range l.v {
			lit.v[i] += l.v[i]
			unlit.v[i] += u.v[i]
		}
	}
	roi := palmROI(s, b)
	ml, _ := lit.stats(roi)
	mu, _ := unlit.stats(roi)
	k := ml / mu
	res := blocks{w: lit.w, h: lit.h, v: make([]float64, len(lit.v))}
	for i := range res.v {
		res.v[i] = lit.v[i] - k*unlit.v[i]
	}
	hr, hl := res.highPass(3), lit.highPass(3)
	_, std := hr.stats(roi)
	var a, c []float64
	for y := roi.Min.Y; y < roi.Max.Y; y++ {
		for x := roi.Min.X; x < roi.Max.X; x++ {
			a = append(a, hr.v[y*hr.w+x])
			c = append(c, hl.v[y*hl.w+x])
		}
	}
	return std / ml, correlation(a, c)
}

func TestGenuineAnswersTheLEDs(t *testing.T) {
	for _, seed := range takes(t) {
		s := NewScene(Capture{Identity: 100 + seed, Seed: seed})
		const b = 4
		lit, unlit := blockMeans(render(s, 0, true), b), blockMeans(render(s, 0, false), b)
		roi := palmROI(s, b)
		ml, _ := lit.stats(roi)
		mu, _ := unlit.stats(roi)
		_, cl := lit.highPass(4).stats(roi)
		_, cu := unlit.highPass(4).stats(roi)
		t.Logf("seed %d: palm mean lit %.1f unlit %.1f, contrast lit %.2f unlit %.2f", seed, ml, mu, cl, cu)
		if ml < 3*mu {
			t.Errorf("seed %d: palm mean lit %.1f, unlit %.1f: want lit > 3×unlit", seed, ml, mu)
		}
		if ml < 110 || ml > 240 {
			t.Errorf("seed %d: good capture palm mean %.1f, want 110..240", seed, ml)
		}
		if cl < 4*cu || cl < 2 {
			t.Errorf("seed %d: vein contrast lit %.2f, unlit %.2f: want lit > 4×unlit and > 2", seed, cl, cu)
		}
	}
}

func TestAttacksAgainstGenuine(t *testing.T) {
	for _, seed := range takes(t) {
		id := 200 + seed
		genuine, gc := litOnlyStructure(NewScene(Capture{Identity: id, Seed: seed}))
		printed, pc := litOnlyStructure(NewScene(Capture{Identity: id, Seed: seed, Presentation: PrintedPhoto}))
		t.Logf("seed %d: lit-only structure genuine %.4f (corr %.2f), printed photo %.4f (corr %.2f)", seed, genuine, gc, printed, pc)
		if genuine < 2.5*printed || gc < 0.2 || pc > 0.1 {
			t.Errorf("seed %d: lit-only structure genuine %.4f (corr %.2f), printed %.4f (corr %.2f): want genuine > 2.5×printed, corr > 0.2 vs < 0.1",
				seed, genuine, gc, printed, pc)
		}

		screen := NewScene(Capture{Identity: id, Seed: seed, Presentation: ScreenReplay})
		ml, _ := blockMeans(render(screen, 0, true), 4).stats(palmROI(screen, 4))
		mu, _ := blockMeans(render(screen, 0, false), 4).stats(palmROI(screen, 4))
		t.Logf("seed %d: screen palm mean lit %.1f unlit %.1f", seed, ml, mu)
		if mu < 0.8*ml || mu < 60 {
			t.Errorf("seed %d: screen unlit %.1f, lit %.1f: want unlit ≥ 0.8×lit and bright", seed, mu, ml)
		}
	}
}

// motionBetween is the mean absolute difference of 8×8 block means of two
// frames: sensor noise averages out, motion at edges and veins does not.
func motionBetween(s *Scene, f0, f1 int) (blockDiff, pixelDiff float64) {
	a, b := render(s, f0, true), render(s, f1, true)
	ba, bb := blockMeans(a, 8), blockMeans(b, 8)
	for i := range ba.v {
		blockDiff += math.Abs(ba.v[i] - bb.v[i])
	}
	for i := range a.Pix {
		pixelDiff += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
	}
	return blockDiff / float64(len(ba.v)), pixelDiff / float64(len(a.Pix))
}

func TestMicroMotion(t *testing.T) {
	tests := []struct {
		p     Presentation
		moves bool
	}{
		{Genuine, true},
		{PrintedPhoto, true}, // rigid, but in the holder's hand
		{RigidReplica, false},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			for _, seed := range takes(t) {
				s := NewScene(Capture{Identity: 300 + seed, Seed: seed, Presentation: tt.p})
				// The same scene held perfectly still differs between frames
				// by sensor noise alone: that is the floor.
				still := *s
				still.params.motion = motion{}
				var worst float64
				for f := 1; f <= 8; f++ {
					bd, pd := motionBetween(s, 0, f)
					if pd == 0 {
						t.Fatalf("seed %d: frames 0 and %d are identical: no sensor noise", seed, f)
					}
					floor, _ := motionBetween(&still, 0, f)
					worst = max(worst, bd/floor)
				}
				t.Logf("seed %d: largest block difference over noise floor %.2f", seed, worst)
				if tt.moves && worst < 1.5 {
					t.Errorf("seed %d: block difference %.2f× the noise floor, want ≥ 1.5 (micro-motion)", seed, worst)
				}
				if !tt.moves && worst > 1.15 {
					t.Errorf("seed %d: block difference %.2f× the noise floor, want ≤ 1.15 (noise only)", seed, worst)
				}
			}
		})
	}
}

// takes is the seeds each statistical test renders: several, or one with
// -short.
func takes(t *testing.T) []uint64 {
	t.Helper()
	if testing.Short() {
		return []uint64{1}
	}
	return []uint64{1, 2, 3, 4}
}
