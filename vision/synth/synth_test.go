package synth

import (
	"bytes"
	"errors"
	"image"
	"math"
	"sync"
	"testing"
)

// scenes memoises the scenes the tests that are not skipped under the race
// detector render from, for the whole test binary: a scene is
// deterministic (TestDeterminism), and building it took most of this
// package's time under go test -race -count=N. Rendering does not change a
// scene, from any number of goroutines (TestRenderConcurrent).
var scenes sync.Map // Capture -> *Scene

// sceneOf returns the scene of c, built the first time it is asked for.
func sceneOf(c Capture) *Scene {
	if s, ok := scenes.Load(c); ok {
		return s.(*Scene)
	}
	s, _ := scenes.LoadOrStore(c, NewScene(c))
	return s.(*Scene)
}

func TestParseRoundTrip(t *testing.T) {
	for p := Genuine; p <= RigidReplica; p++ {
		got, err := ParsePresentation(p.String())
		if err != nil || got != p {
			t.Errorf("ParsePresentation(%q) = %v, %v; want %v", p.String(), got, err, p)
		}
		var q Presentation
		b, err := p.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText: %v", p, err)
		}
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, q, err, p)
		}
	}
	for c := Good; c <= Bright; c++ {
		got, err := ParseCondition(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCondition(%q) = %v, %v; want %v", c.String(), got, err, c)
		}
		var q Condition
		b, err := c.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText: %v", c, err)
		}
		if err := q.UnmarshalText(b); err != nil || q != c {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, q, err, c)
		}
	}
	for _, s := range []string{"", "Genuine", "printed photo", "good ", "paper"} {
		if _, err := ParsePresentation(s); !errors.Is(err, ErrUnknownPresentation) {
			t.Errorf("ParsePresentation(%q) err = %v, want ErrUnknownPresentation", s, err)
		}
		if _, err := ParseCondition(s); !errors.Is(err, ErrUnknownCondition) {
			t.Errorf("ParseCondition(%q) err = %v, want ErrUnknownCondition", s, err)
		}
	}
	if _, err := Presentation(9).MarshalText(); !errors.Is(err, ErrUnknownPresentation) {
		t.Errorf("Presentation(9).MarshalText err = %v", err)
	}
	if _, err := Condition(-1).MarshalText(); !errors.Is(err, ErrUnknownCondition) {
		t.Errorf("Condition(-1).MarshalText err = %v", err)
	}
}

func TestIdentityOf(t *testing.T) {
	// IdentityOf is FNV-1a 64, so scenario names keep their palms across
	// releases; these are the algorithm's published test vectors.
	for _, tt := range []struct {
		name string
		want uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
	} {
		if got := IdentityOf(tt.name); got != tt.want {
			t.Errorf("IdentityOf(%q) = %#x, want %#x", tt.name, got, tt.want)
		}
	}
	if IdentityOf("alice") == IdentityOf("bob") {
		t.Error("IdentityOf(alice) == IdentityOf(bob)")
	}
}

func newFrame() *image.Gray { return image.NewGray(image.Rect(0, 0, Width, Height)) }

func render(s *Scene, frame int, lit bool) *image.Gray {
	g := newFrame()
	s.Render(g, frame, lit)
	return g
}

func TestDeterminism(t *testing.T) {
	skipUnderRace(t)
	for _, c := range []Capture{
		{Identity: 1, Seed: 1},
		{Identity: 2, Seed: 9, Condition: Moving},
		{Identity: 3, Seed: 4, Presentation: PrintedPhoto, Condition: Blurred},
		{Identity: 4, Seed: 2, Presentation: ScreenReplay, Condition: OffCentre},
		{Identity: 5, Seed: 7, Presentation: RigidReplica, Condition: Bright},
	} {
		a, b := NewScene(c), NewScene(c)
		for _, f := range []int{0, 17} {
			for _, lit := range []bool{true, false} {
				fa, fb := render(a, f, lit), render(b, f, lit)
				if !bytes.Equal(fa.Pix, fb.Pix) {
					t.Errorf("%+v frame %d lit=%v: two scenes of one capture differ", c, f, lit)
				}
				if again := render(a, f, lit); !bytes.Equal(fa.Pix, again.Pix) {
					t.Errorf("%+v frame %d lit=%v: rendering twice differs", c, f, lit)
				}
			}
		}
		if a.DistanceMM() != b.DistanceMM() {
			t.Errorf("%+v: DistanceMM differs", c)
		}
	}
	// Different seeds of one identity are different takes.
	x, y := render(NewScene(Capture{Identity: 1, Seed: 1}), 0, true), render(NewScene(Capture{Identity: 1, Seed: 2}), 0, true)
	if bytes.Equal(x.Pix, y.Pix) {
		t.Error("seeds 1 and 2 render the same frame")
	}
}

// palmPatch returns the canonical high-pass texture of a scene's lit layer
// over the centre of the palm, where veins and creases are.
func palmPatch(s *Scene) []float64 {
	x0, y0 := toCanvas(vec{-0.3, 0.35})
	x1, y1 := toCanvas(vec{0.3, -0.35})
	var out []float64
	const r = 12
	for y := int(y0); y < int(y1); y += 2 {
		for x := int(x0); x < int(x1); x += 2 {
			var m float64
			for dy := -r; dy <= r; dy += 3 {
				for dx := -r; dx <= r; dx += 3 {
					m += float64(s.b1[(y+dy)*canvasW+x+dx])
				}
			}
			m /= 81
			out = append(out, float64(s.b1[y*canvasW+x])-m)
		}
	}
	return out
}

func correlation(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func TestIdentityInCanonicalSpace(t *testing.T) {
	skipUnderRace(t)
	tests := []struct {
		name   string
		a, b   Capture
		lo, hi float64 // bounds of the palm texture correlation
	}{
		{"same person, other take", Capture{Identity: 11, Seed: 1}, Capture{Identity: 11, Seed: 2}, 0.6, 1},
		{"same person, dark take", Capture{Identity: 12, Seed: 3}, Capture{Identity: 12, Seed: 4, Condition: Dark}, 0.5, 1},
		{"two people", Capture{Identity: 11, Seed: 1}, Capture{Identity: 12, Seed: 1}, -0.3, 0.3},
		{"two other people", Capture{Identity: IdentityOf("alice"), Seed: 5}, Capture{Identity: IdentityOf("bob"), Seed: 5}, -0.3, 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := correlation(palmPatch(NewScene(tt.a)), palmPatch(NewScene(tt.b)))
			t.Logf("correlation %.3f", c)
			if c < tt.lo || c > tt.hi {
				t.Errorf("palm texture correlation %.2f, want in [%.1f, %.1f]", c, tt.lo, tt.hi)
			}
		})
	}
	// The vein trees themselves differ.
	va, vb := newAnatomy(11).veins, newAnatomy(12).veins
	if len(va) == len(vb) && va[len(va)-1].pos == vb[len(vb)-1].pos {
		t.Error("identities 11 and 12 have the same vein tree")
	}
}

func TestRenderBounds(t *testing.T) {
	s := sceneOf(Capture{Identity: 6, Seed: 6})
	full := render(s, 3, true)
	tests := []struct {
		name string
		r    image.Rectangle
	}{
		{"inside", image.Rect(100, 50, 420, 260)},
		{"overhanging", image.Rect(1200, 700, 1400, 900)},
		{"sub-image", image.Rect(0, 0, Width, Height)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := image.NewGray(tt.r)
			if tt.name == "sub-image" {
				dst = newFrame().SubImage(image.Rect(640, 400, 900, 600)).(*image.Gray)
			}
			for i := range dst.Pix {
				dst.Pix[i] = 77
			}
			s.Render(dst, 3, true)
			for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
				for x := dst.Rect.Min.X; x < dst.Rect.Max.X; x++ {
					want := uint8(0)
					if (image.Point{x, y}).In(full.Rect) {
						want = full.GrayAt(x, y).Y
					}
					if got := dst.GrayAt(x, y).Y; got != want {
						t.Fatalf("pixel (%d, %d) = %d, want %d", x, y, got, want)
					}
				}
			}
		})
	}
}

func TestRenderConcurrent(t *testing.T) {
	s := sceneOf(Capture{Identity: 8, Seed: 8, Presentation: ScreenReplay})
	want := make([]*image.Gray, 4)
	for f := range want {
		want[f] = render(s, f, f%2 == 0)
	}
	got := make([]*image.Gray, len(want))
	var wg sync.WaitGroup
	for f := range got {
		wg.Go(func() { got[f] = render(s, f, f%2 == 0) })
	}
	wg.Wait()
	for f := range got {
		if !bytes.Equal(got[f].Pix, want[f].Pix) {
			t.Errorf("frame %d rendered concurrently differs from serial", f)
		}
	}
}
