package liveness

import (
	"cmp"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/palmd/palmd/vision/internal/workspace"
	"golang.org/x/sys/unix"
)

// scene describes a hand-made presentation for the tests.
type scene struct {
	veins  bool    // dark vein lines that absorb the LEDs' light
	blank  bool    // no reflectance texture either (a dye print at 850 nm)
	dark   bool    // answers the LEDs barely (a screen)
	emit   bool    // glows with the LEDs off
	tremor float64 // pixels of shift between pairs
	period float64 // pixels between veins (0: 60)
	absorb float64 // fraction of the LEDs' light a vein absorbs (0: 0.3)
	gain   float64 // LED response scale: power, albedo or exposure (0: 1)
	blur   float64 // Gaussian sigma of the veins' profile, pixels along x (0: 3)
	paint  float64 // > 0: veins are sharp-edged stripes this many pixels wide along x, as painted
	radius float64 // > 0: veins are cylinders of this radius, pixels, blurred by blur (a large vein under thin skin)
	narrow bool    // narrow veins (blurred 2 px) cross the others
	lens   float64 // Gaussian sigma, pixels, by which the lens blurs paint
	closer float64 // the LED response grows by this fraction a frame: a hand coming closer
	drift  float64 // pixels a frame the scene moves along x, on top of tremor
}

// fixtures memoises what the tests draw: drawing is deterministic, and it
// took most of the package's time under go test -race -count=N, where every
// run drew the same frames again. Callers never write to what they get.
var fixtures sync.Map // renderKey or floodKey -> Pair or Burst

type renderKey struct {
	s    scene
	k    int
	seed uint64
}

// render returns pair k of s (draw), drawn once per key.
func (s scene) render(k int, seed uint64) Pair {
	key := renderKey{s, k, seed}
	if p, ok := fixtures.Load(key); ok {
		return p.(Pair)
	}
	p, _ := fixtures.LoadOrStore(key, s.draw(k, seed))
	return p.(Pair)
}

// draw draws pair k of s at 640 x 400: a palm disc with reflectance
// texture (in both frames) and, if s.veins, veins that darken only the lit
// frame.
func (s scene) draw(k int, seed uint64) Pair {
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	const w, h = 640, 400
	lit, unlit := image.NewGray(image.Rect(0, 0, w, h)), image.NewGray(image.Rect(0, 0, w, h))
	dx := s.tremor*math.Sin(float64(k)*1.7) + s.drift*float64(k)
	dy := s.tremor * math.Cos(float64(k)*2.3)
	period, absorb, gain := cmp.Or(s.period, 60), cmp.Or(s.absorb, 0.3), cmp.Or(s.gain, 1)
	gain *= 1 + s.closer*float64(k)
	var profile []float64 // the cylinder's darkening every 0.05 px from its axis
	if s.radius > 0 {
		peak := chord(0, s.radius, cmp.Or(s.blur, 3))
		for d := 0.0; d <= period; d += 0.05 {
			profile = append(profile, chord(d, s.radius, cmp.Or(s.blur, 3))/peak)
		}
	}
	for y := range h {
		for x := range w {
			fx, fy := float64(x)-dx, float64(y)-dy
			ex, ey := (fx-320)/150, (fy-200)/170
			l, u := 18.0, 17.0 // black level 16 and a dark room
			if ex*ex+ey*ey <= 1 {
				refl := 0.85 + 0.08*math.Sin(fx/9)*math.Sin(fy/13)
				if s.blank {
					refl = 0.85
				}
				if s.dark {
					refl = 0.03
				}
				v := 0.0
				if s.veins {
					d := math.Mod(fx+0.4*fy+1000, period) - period/2
					sigma := cmp.Or(s.blur, 3)
					v = math.Exp(-d * d / (2 * sigma * sigma))
					if s.paint > 0 {
						v = 0
						if math.Abs(d) < s.paint/2 {
							v = 1
						}
						if s.lens > 0 {
							k := s.lens * math.Sqrt2
							v = (math.Erf((d+s.paint/2)/k) - math.Erf((d-s.paint/2)/k)) / 2
						}
					}
					if s.radius > 0 {
						v = profile[int(math.Abs(d)/0.05)]
					}
					if s.narrow {
						d := math.Mod(fx-0.7*fy+1000, period) - period/2
						v = max(v, math.Exp(-d*d/8))
					}
				}
				u = 16 + 4*refl*(1-absorb*v)
				l = 170*gain*refl*(1-absorb*v) + u
				if s.emit {
					u = 160 + 6*refl
					l = u + 30
				}
			}
			lit.Pix[y*w+x] = uint8(min(255, max(0, l+rng.NormFloat64())))
			unlit.Pix[y*w+x] = uint8(min(255, max(0, u+rng.NormFloat64()*0.75)))
		}
	}
	return Pair{Lit: lit, Unlit: unlit}
}

// chord is the darkening at distance d from the axis of a cylinder of
// radius r seen through a Gaussian blur of sigma: the chord's length over
// the diameter, convolved.
func chord(d, r, sigma float64) float64 {
	var sum float64
	du := r / 100
	for u := -r + du/2; u < r; u += du {
		g := math.Exp(-(d-u)*(d-u)/(2*sigma*sigma)) / (sigma * math.Sqrt(2*math.Pi))
		sum += g * math.Sqrt(r*r-u*u) / r * du
	}
	return sum
}

func (s scene) burst(seed uint64) []Pair {
	b := make([]Pair, BurstPairs)
	for k := range b {
		b[k] = s.render(k, seed)
	}
	return b
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		s      scene
		live   bool
		reason string
	}{
		{"live hand", scene{veins: true, tremor: 1.5}, true, ""},
		{"dye print", scene{blank: true, tremor: 1.5}, false, NoVeins},
		{"screen", scene{dark: true, tremor: 1.5}, false, NoResponse},
		{"glowing", scene{veins: true, emit: true, tremor: 1.5}, false, EmitsLight},
		{"mounted replica", scene{veins: true}, false, NoMicroMove},
	}
	c := NewChecker()
	defer c.Close()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Check(tt.s.burst(uint64(i)))
			if r.Live != tt.live || r.Reason != tt.reason {
				t.Errorf("Check = live %v reason %q, want live %v reason %q; %+v", r.Live, r.Reason, tt.live, tt.reason, r)
			}
			if r.Score < 0 || r.Score > 1 || (r.Score >= 0.5) != r.Live {
				t.Errorf("Score %v inconsistent with Live %v", r.Score, r.Live)
			}
		})
	}
}

// TestVeinsScaleFree: the vein cue measures how strongly an absorber
// darkens the skin's own LED response, not how many veins there are or how
// bright the palm is, so a hand with a few veins scores like one with many.
func TestVeinsScaleFree(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	dense := c.Check(scene{veins: true, tremor: 1.5}.burst(1)).Features.Veins
	tests := []struct {
		name   string
		s      scene
		noVein bool
	}{
		{"a vein every 60 px", scene{veins: true, tremor: 1.5}, false},
		{"one vein every 150 px", scene{veins: true, tremor: 1.5, period: 150}, false},
		{"one vein every 150 px, half the LED response", scene{veins: true, tremor: 1.5, period: 150, gain: 0.5}, false},
		{"dense veins, half the LED response", scene{veins: true, tremor: 1.5, gain: 0.5}, false},
		{"veins absorbing 2 % under untextured skin", scene{veins: true, blank: true, tremor: 1.5, absorb: 0.02}, true},
		{"veins absorbing 30 % under untextured skin", scene{veins: true, blank: true, tremor: 1.5}, false},
		{"no absorber (dye print)", scene{blank: true, tremor: 1.5}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Check(tt.s.burst(uint64(10 + i)))
			if got := r.Reason == NoVeins; got != tt.noVein {
				t.Fatalf("reason %q (veins %.2f), want %s: %v", r.Reason, r.Features.Veins, NoVeins, tt.noVein)
			}
			if !tt.noVein && math.Abs(r.Features.Veins-dense) > 0.25*dense {
				t.Errorf("Veins = %.2f, want within 25 %% of the dense hand's %.2f", r.Features.Veins, dense)
			}
		})
	}
}

// TestSquareTellsPaintFromVeins: veins under skin have rounded profiles
// that scattering blurs, whatever their width or contrast; paint has sharp
// edges and a flat bottom.
func TestSquareTellsPaintFromVeins(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	tests := []struct {
		name    string
		s       scene
		painted bool
	}{
		{"veins blurred 2 px", scene{veins: true, tremor: 1.5, blur: 2}, false},
		{"veins blurred 3 px", scene{veins: true, tremor: 1.5}, false},
		{"faint veins", scene{veins: true, tremor: 1.5, absorb: 0.15}, false},
		{"veins, half the LED response", scene{veins: true, tremor: 1.5, gain: 0.5}, false},
		{"painted stripes 5 px wide", scene{veins: true, tremor: 1.5, paint: 5}, true},
		{"painted stripes 7 px wide", scene{veins: true, tremor: 1.5, paint: 7}, true},
		{"painted stripes 4 px wide", scene{veins: true, tremor: 1.5, paint: 4}, true},
		{"painted stripes 8 px wide, lens blur 2 px", scene{veins: true, tremor: 1.5, paint: 8, lens: 2}, true},
		{"faint paint", scene{veins: true, tremor: 1.5, paint: 6, absorb: 0.15}, true},
		{"paint, half the LED response", scene{veins: true, tremor: 1.5, paint: 6, gain: 0.5}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Check(tt.s.burst(uint64(30 + i)))
			if r.Features.Square < 0 {
				t.Fatalf("Square not measured: %+v", r.Features)
			}
			if got := r.Reason == PaintedVeins; got != tt.painted {
				t.Errorf("reason %q (square %.2f), want %s: %v", r.Reason, r.Features.Square, PaintedVeins, tt.painted)
			}
			if !tt.painted && !r.Live {
				t.Errorf("veins under skin refused: %+v", r)
			}
		})
	}
}

// TestSquareJudgesNarrowAbsorbers: a large vein under thin skin keeps
// some of a cylinder's flat bottom (blurred by 0.3 of its radius it
// scores 0.56), so Square leaves absorbers that wide alone: only narrow
// ones, which skin always rounds, are judged.
func TestSquareJudgesNarrowAbsorbers(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	tests := []struct {
		name     string
		s        scene
		measured bool // narrow absorbers enough for Square to judge
	}{
		{"veins of radius 8 px blurred 2.4 px", scene{veins: true, tremor: 1.5, radius: 8, blur: 2.4}, false},
		{"veins of radius 10 px blurred 3 px", scene{veins: true, tremor: 1.5, radius: 10, blur: 3, period: 80}, false},
		{"the same, with narrow veins between", scene{veins: true, tremor: 1.5, radius: 10, blur: 3, period: 80, narrow: true}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Check(tt.s.burst(uint64(50 + i)))
			if !r.Live {
				t.Errorf("a hand with large veins refused: reason %q, square %.2f; %+v", r.Reason, r.Features.Square, r.Features)
			}
			if got := r.Features.Square >= 0; got != tt.measured {
				t.Errorf("Square %.2f: measured %v, want %v", r.Features.Square, got, tt.measured)
			}
		})
	}
}

// TestSquareResamplesInsideTheFrame: a palm at the frame's edge puts part
// of Square's square outside the frame; those pixels read as black, the
// rest as the frame's area averages, whichever corner the square leaves by.
func TestSquareResamplesInsideTheFrame(t *testing.T) {
	const w, h, grey, black = 640, 400, 100, 10
	frame := image.NewGray(image.Rect(0, 0, w, h))
	for i := range frame.Pix {
		frame.Pix[i] = grey
	}
	s := newSquare()
	s.layout(workspace.New(nil), w)
	defer s.close()
	defer s.free()
	tests := []struct {
		name   string
		cx, cy float64
		side   float64
		in     image.Rectangle // resampled pixels inside the frame
	}{
		{"inside", 320, 200, 320, image.Rect(0, 0, squareSize, squareSize)},
		{"bottom right corner", w - 40, h - 40, 320, image.Rect(0, 0, 200, 200)},
		{"top left corner", 40, 40, 640, image.Rect(140, 140, squareSize, squareSize)},
		{"beyond the right edge", w + 400, 200, 320, image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.measure(frame, tt.cx, tt.cy, tt.side, black)
			img, _ := s.img.DataPtrFloat32()
			for y := range squareSize {
				for x := range squareSize {
					want := float32(0)
					if image.Pt(x, y).In(tt.in) {
						want = grey - black
					}
					if got := img[y*squareSize+x]; got != want {
						t.Fatalf("resampled (%d, %d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
}

func TestCheckRejectsBadBursts(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	p := scene{veins: true, tremor: 1}.render(0, 1)
	odd := Pair{Lit: p.Lit, Unlit: image.NewGray(image.Rect(0, 0, 10, 10))}
	empty := Pair{Lit: &image.Gray{}, Unlit: &image.Gray{}}
	for name, b := range map[string][]Pair{
		"none":       nil,
		"one pair":   {p},
		"mixed size": {p, odd},
		"empty":      {empty, empty},
	} {
		if r := c.Check(b); r.Live || r.Reason != TooFewFrames {
			t.Errorf("%s: Check = %+v, want not live, %q", name, r, TooFewFrames)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	burst := make([]Pair, BurstPairs)
	s := scene{veins: true, tremor: 1.5}
	for k := range burst {
		p := s.render(k, 1)
		burst[k] = Pair{Lit: image.NewGray(image.Rect(0, 0, 1280, 800)), Unlit: image.NewGray(image.Rect(0, 0, 1280, 800))}
		// Upscale the 640 x 400 test pair to the sensor size.
		for y := range 800 {
			for x := range 1280 {
				burst[k].Lit.Pix[y*1280+x] = p.Lit.Pix[(y/2)*640+x/2]
				burst[k].Unlit.Pix[y*1280+x] = p.Unlit.Pix[(y/2)*640+x/2]
			}
		}
	}
	c := NewChecker()
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Check(burst)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*BurstPairs), "ns/frame")
}

func TestCheckDoesNotAllocate(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	b := scene{veins: true, tremor: 1.5}.burst(7)
	c.Check(b) // the first burst of this size reallocates
	if n := testing.AllocsPerRun(5, func() { c.Check(b) }); n != 0 {
		t.Errorf("Check allocates %v times per burst, want 0", n)
	}
}

func TestNewPattern(t *testing.T) {
	seen := map[[BurstFrames]uint8]bool{}
	for range 50 {
		var p [BurstFrames]uint8
		if err := NewPattern(p[:]); err != nil {
			t.Fatal(err)
		}
		var n [4]int
		for _, b := range p {
			n[b]++
		}
		if n != [4]int{2, 2, 2, 2} {
			t.Fatalf("pattern %v: want two frames of each state", p)
		}
		seen[p] = true
	}
	if len(seen) < 40 {
		t.Errorf("50 patterns gave only %d distinct ones", len(seen))
	}
	if err := NewPattern(make([]uint8, 3)); err == nil {
		t.Error("NewPattern on a short slice: no error")
	}
}

// patternBurst renders a challenge-response burst of s: frames lit with
// both banks come from the scene's lit frame, a single bank gives half the
// LED light with a gradient towards its side and a bump (a curved palm)
// that only one bank lights, and proj adds light on even frames whatever
// the pattern (a projector guessing the phase).
func (s scene) patternBurst(pattern []uint8, seed uint64, curved, proj bool) Burst {
	b := Burst{Black: DefaultBlack}
	for i, bk := range pattern {
		p := s.render(i, seed)
		img := p.Unlit
		if bk != BanksOff {
			img = p.Lit
			if bk != BanksBoth {
				img = image.NewGray(p.Lit.Rect)
				for y := range img.Rect.Dy() {
					for x := range img.Rect.Dx() {
						j := y*img.Stride + x
						u, l := float64(p.Unlit.Pix[j]), float64(p.Lit.Pix[j])
						side := float64(x-320) / 640
						if bk == BankRight {
							side = -side
						}
						w := 0.5 - 0.3*side
						if curved {
							dx, dy := float64(x-380)/60, float64(y-230)/60
							w += 0.15 * math.Exp(-dx*dx-dy*dy) * (1 - 2*float64(bk-1))
						}
						img.Pix[j] = uint8(max(0, min(255, u+(l-u)*w)))
					}
				}
			}
		}
		if proj && i%2 == 0 {
			lit := image.NewGray(img.Rect)
			for j, v := range img.Pix {
				lit.Pix[j] = uint8(min(255, int(v)+60))
			}
			img = lit
		}
		b.Frames = append(b.Frames, Frame{Img: img, Banks: bk})
	}
	return b
}

func TestCheckBurst(t *testing.T) {
	pattern := []uint8{BanksOff, BankLeft, BanksBoth, BankRight, BankRight, BanksOff, BanksBoth, BankLeft}
	c := NewChecker()
	defer c.Close()
	tests := []struct {
		name         string
		curved, proj bool
		closer       float64
		live         bool
		reason       string
	}{
		{"curved palm", true, false, 0, true, ""},
		{"flat sheet", false, false, 0, false, Flat},
		{"projector on even frames", true, true, 0, false, Inconsistent},
		// 0.5 % more light a frame: at 150 mm and 60 fps a hand coming
		// closer at about 20 mm/s. Frames lit alike differ by up to 2 %
		// of the response; a projector's guess by tens of per cent.
		{"palm coming closer", true, false, 0.005, true, ""},
		{"projector, palm coming closer", true, true, 0.005, false, Inconsistent},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scene{veins: true, tremor: 1.5, closer: tt.closer}
			r := c.CheckBurst(s.patternBurst(pattern, uint64(i), tt.curved, tt.proj))
			if r.Live != tt.live || r.Reason != tt.reason {
				t.Errorf("CheckBurst = live %v reason %q, want %v %q; %+v", r.Live, r.Reason, tt.live, tt.reason, r.Features)
			}
		})
	}
	if r := c.CheckBurst(Burst{Frames: []Frame{{Img: image.NewGray(image.Rect(0, 0, 8, 8)), Banks: BanksBoth}}}); r.Reason != TooFewFrames {
		t.Errorf("one frame: %+v, want %q", r, TooFewFrames)
	}
}

// TestShapeRegistersTheBanks: a sheet that drifts between the frames lit
// by the left bank and those lit by the right is still flat. Unregistered,
// its veins and texture would move between the two and show in their
// asymmetry as relief (Shape about 2 here, above the bound).
func TestShapeRegistersTheBanks(t *testing.T) {
	// The left bank's frames early, the right bank's late: 4 frames apart.
	pattern := []uint8{BanksOff, BankLeft, BankLeft, BanksBoth, BanksBoth, BankRight, BankRight, BanksOff}
	c := NewChecker()
	defer c.Close()
	for _, tt := range []struct {
		name   string
		curved bool
		drift  float64 // pixels a frame, 640 px wide
		flat   bool
	}{
		{"still sheet", false, 0, true},
		{"sheet drifting 1 px a frame", false, 1, true},
		{"sheet drifting 1.5 px a frame", false, 1.5, true},
		{"curved palm drifting 1.5 px a frame", true, 1.5, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.CheckBurst(scene{veins: true, drift: tt.drift}.patternBurst(pattern, 1, tt.curved, false))
			if flat := r.Features.Shape < minShape; flat != tt.flat {
				t.Errorf("Shape %.2f (bound %v): flat %v, want %v", r.Features.Shape, minShape, flat, tt.flat)
			}
		})
	}
}

func TestCheckBurstDoesNotAllocate(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	b := scene{veins: true, tremor: 1.5}.patternBurst([]uint8{0, 1, 2, 3, 3, 2, 1, 0}, 3, true, false)
	c.CheckBurst(b)
	if n := testing.AllocsPerRun(5, func() { c.CheckBurst(b) }); n != 0 {
		t.Errorf("CheckBurst allocates %v times per burst, want 0", n)
	}
}

// TestShapeScalesWithDistance: the banks' asymmetry on a surface falls as
// 1/d, so Shape is stated at ShapeRefMM from the presence sensor's reading.
func TestShapeScalesWithDistance(t *testing.T) {
	pattern := []uint8{BanksOff, BankLeft, BanksBoth, BankRight, BankRight, BanksOff, BanksBoth, BankLeft}
	c := NewChecker()
	defer c.Close()
	b := scene{veins: true, tremor: 1.5}.patternBurst(pattern, 5, true, false)
	unknown := c.CheckBurst(b).Features.Shape
	for _, tt := range []struct {
		mm   int
		want float64
	}{{int(ShapeRefMM), unknown}, {75, unknown / 2}, {300, 2 * unknown}} {
		b.DistanceMM = tt.mm
		if got := c.CheckBurst(b).Features.Shape; math.Abs(got-tt.want) > 1e-9*tt.want {
			t.Errorf("at %d mm Shape = %v, want %v (%v with no distance)", tt.mm, got, tt.want, unknown)
		}
	}
}

// TestSpecularIsOneBank: a mirror image of an LED bank saturates under that
// bank alone; a diffuse palm that only runs over with both banks lit, or
// where the room's light (the sun) is already bright, is no mirror.
func TestSpecularIsOneBank(t *testing.T) {
	pattern := []uint8{BanksOff, BankLeft, BanksBoth, BankRight, BankRight, BanksOff, BanksBoth, BankLeft}
	// paint sets the pixels of a w x h rectangle at (x, y) to v in the
	// frames whose banks match.
	type patch struct {
		x, y, w, h int
		banks      func(uint8) bool
		v          uint8
	}
	oneBank := func(b uint8) bool { return b == BankLeft || b == BankRight }
	both := func(b uint8) bool { return b == BanksBoth }
	lit := func(b uint8) bool { return b != BanksOff }
	all := func(uint8) bool { return true }
	tests := []struct {
		name     string
		patches  []patch
		specular bool
	}{
		{"no highlight", nil, false},
		{"mirror image of each bank", []patch{{330, 190, 12, 10, oneBank, 255}, {330, 190, 12, 10, both, 255}}, true},
		{"diffuse palm over-exposed with both banks", []patch{{280, 150, 100, 100, both, 255}}, false},
		{"sun on the palm", []patch{{280, 150, 100, 100, all, 200}, {280, 150, 100, 100, lit, 255}}, false},
	}
	c := NewChecker()
	defer c.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := scene{veins: true, tremor: 1.5}.patternBurst(pattern, 6, true, false)
			for i, f := range b.Frames {
				img := image.NewGray(f.Img.Rect)
				copy(img.Pix, f.Img.Pix)
				for _, p := range tt.patches {
					if !p.banks(f.Banks) {
						continue
					}
					for y := p.y; y < p.y+p.h; y++ {
						for x := p.x; x < p.x+p.w; x++ {
							img.Pix[y*img.Stride+x] = p.v
						}
					}
				}
				b.Frames[i].Img = img
			}
			r := c.CheckBurst(b)
			if got := r.Features.Specular > maxSpecular; got != tt.specular {
				t.Errorf("Specular = %v (reason %q), want above %v: %v", r.Features.Specular, r.Reason, maxSpecular, tt.specular)
			}
		})
	}
}

// TestBurstLit: the frames the palm region is cut from are the lit ones,
// those lit by both banks first, in capture order.
func TestBurstLit(t *testing.T) {
	imgs := make([]*image.Gray, 6)
	for i := range imgs {
		imgs[i] = image.NewGray(image.Rect(0, 0, 1, 1))
	}
	tests := []struct {
		name  string
		banks []uint8
		want  []int // indices into imgs
	}{
		{"none lit", []uint8{BanksOff, BanksOff}, nil},
		{"both first", []uint8{BankLeft, BanksOff, BanksBoth, BankRight, BanksBoth, BanksOff}, []int{2, 4, 0, 3}},
		{"one bank only", []uint8{BanksOff, BankRight, BanksOff, BankLeft}, []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Burst
			for i, banks := range tt.banks {
				b.Frames = append(b.Frames, Frame{Img: imgs[i], Banks: banks})
			}
			got := b.Lit(nil)
			if len(got) != len(tt.want) {
				t.Fatalf("%d frames, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				if got[i] != imgs[w] {
					t.Errorf("frame %d is not capture frame %d", i, w)
				}
			}
		})
	}
}

// TestDecideKeepsEveryFailedCheck checks that Failed holds every check a
// burst fails, not only the first, which Reason names.
func TestDecideKeepsEveryFailedCheck(t *testing.T) {
	live := Features{Response: 100, Emission: 0.1, Consistency: 1, Specular: 0, Shape: 3, Gloss: 3, Veins: 5, Square: 0.4, Motion: 1}
	tests := []struct {
		name   string
		change func(*Features)
		reason string
		failed []string
	}{
		{"live", func(*Features) {}, "", nil},
		{"flat sheet without veins", func(f *Features) { f.Shape, f.Veins = 1, 1 }, Flat, []string{Flat, NoVeins}},
		{"still glossy cast with paint", func(f *Features) { f.Shape, f.Gloss, f.Square, f.Motion = 7, 7, 0.7, 0 }, Glossy, []string{Glossy, PaintedVeins, NoMicroMove}},
		{"shape not measured", func(f *Features) { f.Shape, f.Gloss, f.Veins = -1, -1, 1 }, NoVeins, []string{NoVeins}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := live
			tt.change(&f)
			r := decide(f)
			if r.Reason != tt.reason || r.Live != (tt.reason == "") || r.Failed.Count() != len(tt.failed) || !slices.Equal(r.Failed.Reasons(), tt.failed) {
				t.Errorf("decide = reason %q live %v failed %v (%d), want %q %v", r.Reason, r.Live, r.Failed.Reasons(), r.Failed.Count(), tt.reason, tt.failed)
			}
			for _, reason := range checkReasons {
				if r.Failed.Has(reason) != slices.Contains(tt.failed, reason) {
					t.Errorf("Failed.Has(%q) = %v with failed %v", reason, r.Failed.Has(reason), tt.failed)
				}
			}
			if r.Failed.Has(TooFewFrames) || r.Failed.Has("") {
				t.Error("Failed.Has answers for a reason that is no check")
			}
		})
	}
}

// floodedSheet renders a challenge-response burst of a hand-held flat
// print, its veins absorbing ink (0.3 for a carbon vein print, 0 for a dye
// print, blank at 850 nm), under a NIR flood lamp that adds flood times the
// LEDs' response to every frame, at a gain of 6 (5 electrons per grey
// level, shot and read noise as in vision/synth's sensor). Auto-exposure
// keeps the lit frames 200 grey levels above black, so the brighter the
// flood, the smaller the LED response and the larger the shot noise on it.
// Outside the sheet the frame is black.
func floodedSheet(flood, ink float64, seed uint64) Burst {
	key := floodKey{flood, ink, seed}
	if b, ok := fixtures.Load(key); ok {
		return b.(Burst)
	}
	b, _ := fixtures.LoadOrStore(key, drawFloodedSheet(flood, ink, seed))
	return b.(Burst)
}

type floodKey struct {
	flood, ink float64
	seed       uint64
}

func drawFloodedSheet(flood, ink float64, seed uint64) Burst {
	var vein [600]float64 // reflectance by (x + 0.4 y) mod 60, in tenths of a pixel
	for k := range vein {
		d := float64(k)/10 - 30
		vein[k] = 1 - ink*math.Exp(-d*d/18)
	}
	led := 200 / (1 + flood)
	tremor := func(i int) float64 { return math.Round(1.5 * math.Sin(float64(i)*1.7)) } // the holder's
	return drawBurst(rand.NewPCG(seed, 9), 5, 0.9, tremor, func(bk uint8, fx, fy float64) float64 {
		refl := vein[int(math.Mod(fx+0.4*fy+1030, 60)*10)]
		resp := led * refl
		side := (fx - 320) / 640 // a flat sheet: only the banks' gradient
		switch bk {
		case BanksOff:
			resp = 0
		case BankLeft:
			resp *= 0.5 - 0.3*side
		case BankRight:
			resp *= 0.5 + 0.3*side
		}
		return flood*led*refl + resp
	})
}

// drawBurst draws a challenge-response burst at 640 x 400 in a fixed
// pattern: frame i is the scene shifted by shift(i) pixels along x, each
// pixel of the palm (an ellipse) light(banks, x, y) grey levels above
// black, with the shot noise of ePerDN electrons a grey level and read
// noise drawn from src; outside the palm the frame is black.
func drawBurst(src rand.Source, ePerDN, readNoise float64, shift func(i int) float64, light func(banks uint8, fx, fy float64) float64) Burst {
	const w, h = 640, 400
	pattern := []uint8{BanksOff, BankLeft, BanksBoth, BankRight, BankRight, BanksOff, BanksBoth, BankLeft}
	rng := rand.New(src)
	b := Burst{Black: DefaultBlack, DistanceMM: 150}
	for i, bk := range pattern {
		img := image.NewGray(image.Rect(0, 0, w, h))
		dx := shift(i)
		for y := range h {
			for x := range w {
				fx, fy := float64(x)-dx, float64(y)
				ex, ey := (fx-320)/150, (fy-200)/170
				if ex*ex+ey*ey > 1 {
					img.Pix[y*w+x] = DefaultBlack
					continue
				}
				v := light(bk, fx, fy)
				v += rng.NormFloat64() * math.Sqrt(v/ePerDN+readNoise*readNoise)
				img.Pix[y*w+x] = uint8(max(0, min(255, math.Round(v+DefaultBlack))))
			}
		}
		b.Frames = append(b.Frames, Frame{Img: img, Banks: bk})
	}
	return b
}

// TestEmissionGuardsShapeAndVeins: the room-light bound is what keeps
// Shape and Veins sound. A flood lamp shrinks the LED response under
// auto-exposure and adds its shot noise; noise in the banks' asymmetry
// reads as relief, and noise in the LED response as absorbers. Under a
// flood eight times the LEDs' response a flat carbon vein print scores
// above the Flat bound on average and a dye print (blank at 850 nm) above
// the NoVeins bound, so EmitsLight is what refuses them.
func TestEmissionGuardsShapeAndVeins(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	for _, tt := range []struct {
		name             string
		flood, ink       float64
		seeds            int
		reason           string
		feature          func(Features) float64
		minMean, maxMean float64 // bounds on the feature's mean
	}{
		{"carbon print, Shape", 0, 0.3, 1, Flat, shapeOf, 0, minShape / 4},
		{"carbon print, Shape", 8, 0.3, 4, EmitsLight, shapeOf, minShape, math.Inf(1)},
		{"dye print, Veins", 0, 0, 1, Flat, veinsOf, 0, minVeins / 4},
		{"dye print, Veins", 8, 0, 2, EmitsLight, veinsOf, minVeins, math.Inf(1)},
	} {
		var sum float64
		for seed := range tt.seeds {
			r := c.CheckBurst(floodedSheet(tt.flood, tt.ink, uint64(seed)))
			if r.Live || r.Reason != tt.reason {
				t.Errorf("%s, flood %v, seed %d: live %v, failed %v, want refused first as %s", tt.name, tt.flood, seed, r.Live, r.Failed.Reasons(), tt.reason)
			}
			sum += tt.feature(r.Features)
		}
		if mean := sum / float64(tt.seeds); mean < tt.minMean || mean > tt.maxMean {
			t.Errorf("%s, flood %v: mean %.2f, want %.2f .. %.2f", tt.name, tt.flood, mean, tt.minMean, tt.maxMean)
		}
	}
}

func shapeOf(f Features) float64 { return f.Shape }
func veinsOf(f Features) float64 { return f.Veins }

// mapped returns n bytes of anonymous memory, outside the Go heap as a
// workspace must be, unmapped when the test ends.
func mapped(t *testing.T, n int) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

// TestWorkspaceHoldsTheBuffers: a Checker in memory of WorkspaceSize
// keeps every buffer made of frames there, decides as one on the heap
// does, and leaves the memory all zero when CheckBurst returns.
func TestWorkspaceHoldsTheBuffers(t *testing.T) {
	pattern := []uint8{BanksOff, BankLeft, BanksBoth, BankRight, BankRight, BanksOff, BanksBoth, BankLeft}
	b := scene{veins: true, tremor: 1.5}.patternBurst(pattern, 7, true, false)
	size := b.Frames[0].Img.Bounds().Size()
	mem := mapped(t, WorkspaceSize(size))
	c := NewCheckerIn(mem)
	defer c.Close()
	heap := NewChecker()
	defer heap.Close()
	want := heap.CheckBurst(b)
	got := c.CheckBurst(b)
	if got != want {
		t.Errorf("in the workspace: %+v\non the heap: %+v", got, want)
	}
	if !got.Live || got.Features.Square < 0 {
		t.Fatalf("the burst did not use every cue: %+v", got)
	}
	if n := c.space.Fallbacks(); n != 0 || c.size != size {
		t.Fatalf("%d buffers outside the workspace (laid out for %v, burst %v)", n, c.size, size)
	}
	inside := func(name string, p unsafe.Pointer, n int) {
		if !c.space.Contains(p, n) {
			t.Errorf("%s is not in the workspace", name)
		}
	}
	for i, m := range c.mats() {
		p, _ := m.DataPtrFloat32()
		inside(fmt.Sprint("float image ", i), unsafe.Pointer(&p[0]), 4*len(p))
	}
	for i, m := range c.sq.mats() {
		p, _ := m.DataPtrFloat32()
		inside(fmt.Sprint("Square image ", i), unsafe.Pointer(&p[0]), 4*len(p))
	}
	inside("gradients", unsafe.Pointer(&c.gx[0]), 4*len(c.gx))
	inside("saturation map", unsafe.Pointer(&c.sat[0]), len(c.sat))
	inside("column sums", unsafe.Pointer(&c.sq.sums[0]), 4*len(c.sq.sums))
	for i, v := range mem {
		if v != 0 {
			t.Fatalf("workspace byte %d of %d is %d after CheckBurst, want every byte zero", i, len(mem), v)
		}
	}
}

// TestSquarePanicReachesTheCaller: a panic while measuring Square, on the
// Checker's goroutine, panics on the goroutine that waits for it (where
// the kiosk recovers and serves the next person), and the Checker's
// goroutine lives on to measure the next burst.
func TestSquarePanicReachesTheCaller(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	// A frame whose pixels are missing: measuring it indexes past them.
	c.squareIn <- squareJob{frame: &image.Gray{Rect: image.Rect(0, 0, 1280, 800), Stride: 1280}, cx: 640, cy: 400, side: 300}
	func() {
		defer func() {
			err, ok := recover().(error)
			if !ok || !strings.Contains(err.Error(), "Square cue panicked") {
				t.Errorf("awaitSquare recovered %v, want the Square cue's panic as an error", err)
			}
		}()
		c.awaitSquare()
		t.Error("awaitSquare returned after the Square cue panicked")
	}()
	b := scene{veins: true, tremor: 1.5}.burst(7)
	if r := c.Check(b); r.Features.Square < 0 || !r.Live {
		t.Errorf("after the panic, a live burst gave Square %.2f, live %v", r.Features.Square, r.Live)
	}
}

// TestPanicBesideSquare: when a cue on CheckBurst's goroutine panics while
// Square is being measured, the deferred wipe waits for Square, so the
// next burst neither hangs on the Checker's goroutine nor reads the
// abandoned burst's result.
func TestPanicBesideSquare(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	live := scene{veins: true, tremor: 1.5}.burst(7)
	want := c.Check(live).Features.Square
	// What CheckBurst leaves when a cue panics after sending the job: a
	// Square measurement of another frame whose result nobody received.
	other := scene{veins: true, tremor: 1.5}.render(3, 1)
	c.squareIn <- squareJob{frame: other.Lit, cx: 640, cy: 400, side: 400, black: DefaultBlack}
	c.squarePending = true
	c.wipe()
	if got := c.Check(live).Features.Square; got != want {
		t.Errorf("after an abandoned Square, the live burst's Square is %.3f, want %.3f", got, want)
	}
}

func TestMarkSaturated(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 64, 1001} {
		for _, bright := range []bool{false, true} {
			px := make([]uint8, n)
			for i := range px {
				// Every byte value, and runs near the bound.
				px[i] = uint8(r.IntN(256))
				if bright {
					px[i] = uint8(saturated - 3 + r.IntN(6))
				}
			}
			sat := make([]uint8, n)
			for i := range sat {
				sat[i] = uint8(r.IntN(2)) // bits other lit states set before
			}
			want := slices.Clone(sat)
			for i, v := range px {
				if v >= saturated {
					want[i] |= 4
				}
			}
			markSaturated(sat, px, 4)
			if !slices.Equal(sat, want) {
				t.Errorf("%d pixels (bright %v): marks differ from a byte-wise comparison", n, bright)
			}
		}
	}
	for v := range 256 {
		px, sat := []uint8{0, 0, 0, uint8(v), 0, 0, 0, 0}, make([]uint8, 8)
		markSaturated(sat, px, 1)
		if got, want := sat[3] == 1, v >= saturated; got != want {
			t.Errorf("grey level %d: marked %v, want %v", v, got, want)
		}
	}
}

// TestWipeAfterACuePanicked: CheckBurst zeroes the small copies before it
// waits for Square; when a cue panics before that, the deferred wipe
// zeroes them, and Square's buffers, all the same.
func TestWipeAfterACuePanicked(t *testing.T) {
	pattern := []uint8{BanksOff, BankLeft, BanksBoth, BankRight, BankRight, BanksOff, BanksBoth, BankLeft}
	b := scene{veins: true, tremor: 1.5}.patternBurst(pattern, 7, true, false)
	size := b.Frames[0].Img.Bounds().Size()
	mem := mapped(t, WorkspaceSize(size))
	c := NewCheckerIn(mem)
	defer c.Close()
	if r := c.CheckBurst(b); r.Features.Square < 0 {
		t.Fatalf("the burst did not measure Square: %+v", r)
	}
	// What a panic in a cue after the job was sent leaves: copies of the
	// burst in the buffers, and Square being measured.
	func() {
		defer func() { _ = recover() }()
		defer c.wipe()
		c.copies = true
		for _, m := range c.mats() {
			p, _ := m.DataPtrFloat32()
			for i := range p {
				p[i] = 1
			}
		}
		c.sat[0] = 1
		c.squareIn <- squareJob{frame: b.Frames[0].Img, cx: 640, cy: 400, side: 400, black: DefaultBlack}
		c.squarePending = true
		panic("a cue")
	}()
	for i, v := range mem {
		if v != 0 {
			t.Fatalf("workspace byte %d of %d is %d after the panic, want every byte zero", i, len(mem), v)
		}
	}
}

// drawLitPalm draws a burst of a palm whose surface turns towards the
// banks (a bump the left bank lights more on one side, the right on the
// other), held in a trembling hand, under a room light of sun times the
// LEDs' response whose shading runs in bands across the palm (a low sun
// on its curves), or with a highlight of each bank that moves with the
// bank (gloss: its peak over the LEDs' diffuse response).
func drawLitPalm(sun, gloss float64, seed uint64) Burst {
	const led = 120.0
	tremor := func(i int) float64 { return 2 * math.Sin(float64(i)*1.7+float64(seed)) } // pixels
	return drawBurst(rand.NewPCG(seed, 10), 30, 1, tremor, func(bk uint8, fx, fy float64) float64 {
		d := math.Mod(fx+0.4*fy+1030, 60) - 30
		refl := 1 - 0.3*math.Exp(-d*d/18) // veins
		side := (fx - 320) / 640
		bx, by := (fx-380)/60, (fy-230)/60
		bump := 0.08 * math.Exp(-bx*bx-by*by)
		var resp float64
		if bk&BankLeft != 0 {
			resp += 0.5 - 1.5*side + bump
			if gloss > 0 {
				hx, hy := (fx-280)/12, (fy-190)/12
				resp += gloss * math.Exp(-hx*hx-hy*hy)
			}
		}
		if bk&BankRight != 0 {
			resp += 0.5 + 1.5*side - bump
			if gloss > 0 {
				hx, hy := (fx-360)/12, (fy-190)/12
				resp += gloss * math.Exp(-hx*hx-hy*hy)
			}
		}
		room := sun * (0.5 + 0.5*math.Sin(fx/5))
		return led * refl * (resp + room)
	})
}

// TestGlossKeepsTheLEDsHighlights: Gloss leaves out only pixels the room
// lights more than the LEDs do, so a highlight of each bank that jumps
// between them (a cast glossier than skin) is still Glossy, and in a dark
// room Gloss is Shape.
func TestGlossKeepsTheLEDsHighlights(t *testing.T) {
	c := NewChecker()
	defer c.Close()
	for _, tt := range []struct {
		name       string
		sun, gloss float64
		reason     string
	}{
		{"palm, dark room", 0, 0, ""},
		{"glossy cast, dark room", 0, 1, Glossy},
		{"palm, room light in bands", 1, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.CheckBurst(drawLitPalm(tt.sun, tt.gloss, 1))
			f := r.Features
			if r.Reason != tt.reason {
				t.Errorf("reason %q (failed %v), want %q; Shape %.2f, Gloss %.2f", r.Reason, r.Failed.Reasons(), tt.reason, f.Shape, f.Gloss)
			}
			if tt.sun == 0 && f.Gloss != f.Shape {
				t.Errorf("dark room: Gloss %.2f, Shape %.2f, want equal", f.Gloss, f.Shape)
			}
		})
	}
}
