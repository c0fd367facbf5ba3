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

func TestGenuineAnswersTheLEDs(t *testing.T) {
	skipUnderRace(t)
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
			t.Errorf("seed %d: contrast lit %.2f, unlit %.2f: want lit > 4×unlit and > 2", seed, cl, cu)
		}
	}
}

// ledStructure is the spread of the high-passed LED response (lit minus
// unlit, which removes the black level and the room) over the palm, relative
// to its mean: veins and creases that answer the LEDs.
func ledStructure(s *Scene) (spread, response float64) {
	const b = 8
	lit, unlit := blockMeans(render(s, 0, true), b), blockMeans(render(s, 0, false), b)
	for i := range lit.v {
		lit.v[i] -= unlit.v[i]
	}
	roi := palmROI(s, b)
	m, _ := lit.stats(roi)
	_, std := lit.highPass(3).stats(roi)
	return std / m, m
}

func TestAttacksAgainstGenuine(t *testing.T) {
	skipUnderRace(t)
	for _, seed := range takes(t) {
		id := 200 + seed
		genuine, gr := ledStructure(NewScene(Capture{Identity: id, Seed: seed}))
		printed, _ := ledStructure(NewScene(Capture{Identity: id, Seed: seed, Presentation: PrintedPhoto}))
		veinPrint, _ := ledStructure(NewScene(Capture{Identity: id, Seed: seed, Presentation: VeinPrintMounted}))
		t.Logf("seed %d: LED-response structure genuine %.4f, dye print %.4f, carbon vein print %.4f", seed, genuine, printed, veinPrint)
		// Dye inks are nearly transparent at 850 nm: the photo all but
		// vanishes. Carbon ink keeps the veins it was printed with.
		if genuine < 2*printed {
			t.Errorf("seed %d: structure genuine %.4f, dye print %.4f: want genuine > 2x", seed, genuine, printed)
		}
		if veinPrint < 0.5*genuine {
			t.Errorf("seed %d: structure vein print %.4f, genuine %.4f: want the print's veins visible", seed, veinPrint, genuine)
		}
		screen := NewScene(Capture{Identity: id, Seed: seed, Presentation: ScreenReplay})
		u := blockMeans(render(screen, 0, false), 4)
		mu, _ := u.stats(palmROI(screen, 4))
		_, sr := ledStructure(screen)
		t.Logf("seed %d: screen LED response %.1f (genuine %.1f), unlit %.1f", seed, sr, gr, mu)
		// A screen emits nothing at 850 nm and reflects the LEDs only as
		// mirror images in its glass.
		if sr > 0.5*gr || mu > BlackLevel+8 {
			t.Errorf("seed %d: screen response %.1f (genuine %.1f), unlit %.1f: want a dark screen", seed, sr, gr, mu)
		}
	}
}

func TestBanksLightTheirSide(t *testing.T) {
	s := sceneOf(Capture{Identity: 5, Seed: 1, Presentation: VeinPrintMounted})
	dst := image.NewGray(image.Rect(0, 0, Width, Height))
	side := func(banks Banks) (left, right float64) {
		s.RenderFrame(dst, 0, banks)
		b := blockMeans(dst, 8)
		l, _ := b.stats(image.Rect(b.w/2-40, b.h/2-20, b.w/2-20, b.h/2+20))
		r, _ := b.stats(image.Rect(b.w/2+20, b.h/2-20, b.w/2+40, b.h/2+20))
		return l, r
	}
	l1, r1 := side(BankLeft)
	l2, r2 := side(BankRight)
	t.Logf("left bank: %.1f | %.1f; right bank: %.1f | %.1f", l1, r1, l2, r2)
	if l1 <= r1 || r2 <= l2 {
		t.Errorf("left bank %.1f|%.1f, right bank %.1f|%.1f: each bank should light its own side more (inverse square)", l1, r1, l2, r2)
	}
}

func TestBlackLevelAndExposure(t *testing.T) {
	skipUnderRace(t)
	for _, c := range []Condition{Good, DarkSkin, FairSkin, ChildClose, Sunlit} {
		s := NewScene(Capture{Identity: 11, Seed: 3, Condition: c})
		_, _, black := s.Exposure()
		unlit, lit := render(s, 0, false), render(s, 0, true)
		// The darkest pixels of an unlit frame sit at the black level.
		var hist [256]int
		for _, v := range unlit.Pix {
			hist[v]++
		}
		low, n := 0, 0
		for n < len(unlit.Pix)/100 {
			n += hist[low]
			low++
		}
		ml, _ := blockMeans(lit, 4).stats(palmROI(s, 4))
		t.Logf("%s: black %.1f, 1st percentile unlit %d, lit palm %.1f", c, black, low, ml)
		if c != Sunlit && math.Abs(float64(low)-black) > 4 { // sunlit: a bright ceiling
			t.Errorf("%s: 1st percentile of the unlit frame %d, black level %.1f", c, low, black)
		}
		// Auto-exposure brings every acceptable hand to a usable level.
		if ml < 120 || ml > 230 {
			t.Errorf("%s: lit palm mean %.1f, want 120..230 after auto-exposure", c, ml)
		}
	}
}

func TestProjectorFollowsItsGuess(t *testing.T) {
	s := sceneOf(Capture{Identity: 9, Seed: 2, Presentation: NIRProjector})
	dst := image.NewGray(image.Rect(0, 0, Width, Height))
	var m [2]float64
	for f := range 2 {
		s.RenderFrame(dst, f, NoBanks)
		m[f], _ = blockMeans(dst, 8).stats(palmROI(s, 8))
	}
	t.Logf("unlit frames 0, 1: %.1f, %.1f", m[0], m[1])
	if math.Abs(m[0]-m[1]) < 50 {
		t.Errorf("unlit frames %.1f and %.1f: the projector should flash on one of them", m[0], m[1])
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
	skipUnderRace(t)
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

// TestCeilingContinuesPastTheCanvas: outside the canvas a frame shows the
// ceiling at its own level (Scene.bgAmb); inside, the canvas's uncovered
// pixels must show the same level, or a frame has a rectangular step where
// the canvas ends. Each condition scales the ceiling with the exposure
// auto-exposure sets, Dark's too.
func TestCeilingContinuesPastTheCanvas(t *testing.T) {
	skipUnderRace(t)
	for _, c := range Conditions() {
		t.Run(c.String(), func(t *testing.T) {
			s := NewScene(Capture{Identity: IdentityOf("ceiling"), Seed: 7, Condition: c})
			// The canvas's top row: above the fingertips, uncovered
			// somewhere whatever the pose.
			best := math.Inf(1)
			for x := range canvasW {
				best = min(best, math.Abs(float64(s.amb[x])-float64(s.bgAmb)))
			}
			if best > 2 { // grey levels x 256
				t.Errorf("the canvas's top row is at least %.2f grey levels from the ceiling outside it (%.2f)", best/256, float64(s.bgAmb)/256)
			}
		})
	}
}
