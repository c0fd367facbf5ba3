package synth

import (
	"image"
	"math"
	"testing"
)

// palmFrac is the palm width as a fraction of the frame width at frame 0.
func palmFrac(s *Scene) float64 { return s.params.pose.scale / Width }

// palmInFrame reports how much of the palm's bounding box lies inside the
// frame at frame 0, 0..1.
func palmInFrame(s *Scene) float64 { return inFrame(s.params.motion.at(s.params.pose, 0), s.anat) }

// brightFraction is the fraction of frame pixels brighter than the
// background could be: the hand (or attack) area.
func brightFraction(g *image.Gray, level uint8) float64 {
	var n int
	for _, v := range g.Pix {
		if v >= level {
			n++
		}
	}
	return float64(n) / float64(len(g.Pix))
}

// sharpness is the mean squared horizontal gradient of 4×4 block means in
// the palm ROI (blocks keep sensor noise from dominating it).
func sharpness(s *Scene) float64 {
	b := blockMeans(render(s, 0, true), 4)
	r := palmROI(s, 4)
	var e float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X-1; x++ {
			d := b.v[y*b.w+x+1] - b.v[y*b.w+x]
			e += d * d
		}
	}
	return e / float64(r.Dx()*r.Dy())
}

func TestConditions(t *testing.T) {
	skipUnderRace(t)
	tests := []struct {
		c     Condition
		check func(t *testing.T, s, good *Scene)
	}{
		{Good, func(t *testing.T, s, _ *Scene) {
			if f := palmFrac(s); f < 0.28 || f > 0.45 {
				t.Errorf("palm width %.2f of the frame, want 0.28..0.45", f)
			}
			if in := palmInFrame(s); in < 1 {
				t.Errorf("palm %.2f in frame, want all of it", in)
			}
			p := s.params.pose
			if math.Abs(p.cx-Width/2) > 0.1*Width || math.Abs(p.cy-Height/2) > 0.12*Height {
				t.Errorf("palm centre (%.0f, %.0f) is not reasonably centred", p.cx, p.cy)
			}
			if d := s.DistanceMM(); d < 100 || d > 220 {
				t.Errorf("distance %d mm, want a hover of 100..220 mm", d)
			}
		}},
		{TooFar, func(t *testing.T, s, good *Scene) {
			if f := palmFrac(s); f > 0.25 {
				t.Errorf("palm width %.2f of the frame, want < 0.25", f)
			}
			if a, g := brightFraction(render(s, 0, true), 60), brightFraction(render(good, 0, true), 60); a > 0.6*g {
				t.Errorf("hand area %.2f, good capture %.2f: want much smaller", a, g)
			}
			if s.DistanceMM() <= good.DistanceMM() {
				t.Errorf("distance %d mm, good capture %d mm: want farther", s.DistanceMM(), good.DistanceMM())
			}
		}},
		{TooClose, func(t *testing.T, s, good *Scene) {
			if in := palmInFrame(s); in > 0.95 {
				t.Errorf("palm %.2f in frame, want it to overflow", in)
			}
			if a, g := brightFraction(render(s, 0, true), 60), brightFraction(render(good, 0, true), 60); a < 1.3*g {
				t.Errorf("hand area %.2f, good capture %.2f: want much larger", a, g)
			}
			if s.DistanceMM() >= good.DistanceMM() {
				t.Errorf("distance %d mm, good capture %d mm: want nearer", s.DistanceMM(), good.DistanceMM())
			}
		}},
		{OffCentre, func(t *testing.T, s, _ *Scene) {
			if d := math.Abs(s.params.pose.cx - Width/2); d < 0.15*Width {
				t.Errorf("palm centre %.0f px from the frame centre, want > %.0f", d, 0.15*Width)
			}
			if in := palmInFrame(s); in < 0.98 {
				t.Errorf("palm %.2f in frame, want (almost) all of it", in)
			}
		}},
		{PartlyOut, func(t *testing.T, s, _ *Scene) {
			if in := palmInFrame(s); in > 0.8 || in < 0.4 {
				t.Errorf("palm %.2f in frame, want 0.4..0.8", in)
			}
		}},
		{Moving, func(t *testing.T, s, good *Scene) {
			m, _ := motionBetween(s, 0, 3)
			g, _ := motionBetween(good, 0, 3)
			if m < 4*g {
				t.Errorf("block difference over 3 frames %.2f, good capture %.2f: want ≥ 4×", m, g)
			}
		}},
		{Blurred, func(t *testing.T, s, good *Scene) {
			if b, g := sharpness(s), sharpness(good); b > 0.5*g {
				t.Errorf("sharpness %.2f, good capture %.2f: want less than half", b, g)
			}
		}},
		{Dark, func(t *testing.T, s, _ *Scene) {
			if m, _ := blockMeans(render(s, 0, true), 4).stats(palmROI(s, 4)); m > 60 {
				t.Errorf("lit palm mean %.1f, want ≤ 60", m)
			}
		}},
		{Bright, func(t *testing.T, s, _ *Scene) {
			g := render(s, 0, true)
			r := palmROI(s, 1)
			var sat int
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					if g.Pix[y*g.Stride+x] >= 250 {
						sat++
					}
				}
			}
			if f := float64(sat) / float64(r.Dx()*r.Dy()); f < 0.3 {
				t.Errorf("%.2f of the palm saturated, want ≥ 0.3", f)
			}
			if m, _ := blockMeans(render(s, 0, false), 4).stats(palmROI(s, 4)); m < 60 {
				t.Errorf("unlit palm mean %.1f, want strong ambient ≥ 60", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.c.String(), func(t *testing.T) {
			for _, seed := range takes(t) {
				id := 400 + seed
				good := NewScene(Capture{Identity: id, Seed: seed})
				s := NewScene(Capture{Identity: id, Seed: seed, Condition: tt.c})
				tt.check(t, s, good)
			}
		})
	}
}

func TestRenderDoesNotAllocate(t *testing.T) {
	s := sceneOf(Capture{Identity: 1, Seed: 1})
	dst := newFrame()
	f := 0
	if n := testing.AllocsPerRun(5, func() { s.Render(dst, f, f%2 == 0); f++ }); n != 0 {
		t.Errorf("Render allocates %.0f times per frame", n)
	}
}
