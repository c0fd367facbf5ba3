package match

import (
	"bytes"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// lines draws a palm-like texture: dark blurred line segments on a bright,
// slightly uneven background. The same seed gives the same lines; shift moves
// them and noise adds per-pixel sensor noise from noiseSeed.
func lines(seed uint64, shift image.Point, noise float64, noiseSeed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 1))
	type seg struct{ x0, y0, x1, y1, w, depth float64 }
	segs := make([]seg, 40)
	for i := range segs {
		x, y := r.Float64()*Size, r.Float64()*Size
		a, l := r.Float64()*math.Pi, 15+r.Float64()*50
		segs[i] = seg{x, y, x + l*math.Cos(a), y + l*math.Sin(a), 1 + r.Float64()*2.5, 30 + r.Float64()*50}
	}
	nr := rand.New(rand.NewPCG(noiseSeed, 2))
	img := image.NewGray(image.Rect(0, 0, Size, Size))
	for y := range Size {
		for x := range Size {
			px, py := float64(x-shift.X), float64(y-shift.Y)
			v := 170 + 20*math.Sin(px/40)
			for _, s := range segs {
				d := segDist(px, py, s.x0, s.y0, s.x1, s.y1)
				v -= s.depth * math.Exp(-d*d/(2*s.w*s.w))
			}
			v += nr.NormFloat64() * noise
			img.Pix[y*img.Stride+x] = uint8(min(max(v, 0), 255))
		}
	}
	return img
}

func segDist(px, py, x0, y0, x1, y1 float64) float64 {
	dx, dy := x1-x0, y1-y0
	t := min(max(((px-x0)*dx+(py-y0)*dy)/(dx*dx+dy*dy), 0), 1)
	return math.Hypot(px-x0-t*dx, py-y0-t*dy)
}

func TestNewTemplateSize(t *testing.T) {
	tests := []struct {
		name string
		rect image.Rectangle
		err  error
	}{
		{"exact", image.Rect(0, 0, Size, Size), nil},
		{"offset origin", image.Rect(10, 20, 10+Size, 20+Size), nil},
		{"too narrow", image.Rect(0, 0, Size-1, Size), ErrSize},
		{"too small", image.Rect(0, 0, 64, 64), ErrSize},
		{"empty", image.Rectangle{}, ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTemplate(image.NewGray(tt.rect))
			if !errors.Is(err, tt.err) {
				t.Fatalf("NewTemplate(%v) error = %v, want %v", tt.rect, err, tt.err)
			}
		})
	}
}

func TestSubImageMatchesCopy(t *testing.T) {
	img := lines(7, image.Point{}, 0, 0)
	big := image.NewGray(image.Rect(0, 0, Size+30, Size+30))
	for y := range Size {
		copy(big.Pix[(y+10)*big.Stride+20:], img.Pix[y*img.Stride:(y+1)*img.Stride])
	}
	sub := big.SubImage(image.Rect(20, 10, 20+Size, 10+Size)).(*image.Gray)
	a, err := NewTemplate(img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTemplate(sub)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("template of a sub-image differs from the template of the same pixels")
	}
}

// TestNewTemplateIsTheFilterBank: NewTemplate's code equals the one
// computed the plain way (each filter correlated on its own at each point,
// border pixels replicated) on palms, noise, flat and saturated regions.
func TestNewTemplateIsTheFilterBank(t *testing.T) {
	noise := image.NewGray(image.Rect(0, 0, Size, Size))
	r := rand.New(rand.NewPCG(3, 3))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(r.UintN(256))
	}
	saturated := image.NewGray(image.Rect(0, 0, Size, Size))
	for i := range saturated.Pix {
		saturated.Pix[i] = 255 * uint8(i/Size%2)
	}
	tests := []struct {
		name string
		roi  *image.Gray
	}{
		{"palm", lines(1, image.Point{}, 4, 1)},
		{"shifted noisy palm", lines(9, image.Pt(5, -3), 12, 4)},
		{"noise", noise},
		{"flat", image.NewGray(image.Rect(0, 0, Size, Size))},
		{"striped 0/255", saturated},
	}
	for _, tt := range tests {
		got, err := NewTemplate(tt.roi)
		if err != nil {
			t.Fatal(err)
		}
		if want := plainTemplate(tt.roi); got != want {
			t.Errorf("%s: the template differs from the plain filter bank's", tt.name)
		}
	}
}

// plainTemplate is NewTemplate written as the package doc describes it.
func plainTemplate(roi *image.Gray) Template {
	bank := filterBank()
	var t Template
	for gy := range grid {
		cy := gy*stride + stride/2
		for gx := range grid {
			cx := gx*stride + stride/2
			best, bestResp := 0, math.Inf(1)
			for o := range orients {
				var r float64
				for y := -radius; y <= radius; y++ {
					row := roi.Pix[min(max(cy+y, 0), Size-1)*roi.Stride:]
					for x := -radius; x <= radius; x++ {
						r += bank[o][y+radius][x+radius] * float64(row[min(max(cx+x, 0), Size-1)])
					}
				}
				if r < bestResp {
					best, bestResp = o, r
				}
			}
			for p := range planes {
				t.plane[p][gy] |= uint32(orientBits[best]>>p&1) << gx
			}
		}
	}
	return t
}

func TestSimilarity(t *testing.T) {
	base := lines(1, image.Point{}, 0, 0)
	tests := []struct {
		name     string
		other    *image.Gray
		min, max float64
	}{
		{"identical", base, 1, 1},
		{"noisy copy", lines(1, image.Point{}, 6, 9), Threshold + 0.2, 1},
		{"shifted 6px with noise", lines(1, image.Pt(6, -5), 6, 10), Threshold + 0.1, 1},
		{"other palm", lines(2, image.Point{}, 0, 0), 0, Threshold - 0.1},
		{"other palm with noise", lines(3, image.Pt(3, 3), 6, 11), 0, Threshold - 0.1},
	}
	ta, err := NewTemplate(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := NewTemplate(tt.other)
			if err != nil {
				t.Fatal(err)
			}
			s := Similarity(ta, tb)
			if s < tt.min || s > tt.max {
				t.Fatalf("Similarity = %.3f, want in [%.2f, %.2f]", s, tt.min, tt.max)
			}
			if r := Similarity(tb, ta); math.Abs(r-s) > 1e-12 {
				t.Fatalf("Similarity not symmetric: %.4f vs %.4f", s, r)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for seed := range uint64(4) {
		a, err := NewTemplate(lines(seed, image.Point{}, 4, seed))
		if err != nil {
			t.Fatal(err)
		}
		enc, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var b Template
		if err := b.UnmarshalBinary(enc); err != nil {
			t.Fatalf("UnmarshalBinary: %v", err)
		}
		if a != b {
			t.Fatalf("seed %d: round trip changed the template", seed)
		}
		again, _ := b.MarshalBinary()
		if !bytes.Equal(enc, again) {
			t.Fatalf("seed %d: re-encoding differs", seed)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, err := Template{}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", good[:len(good)-1]},
		{"long", append(bytes.Clone(good), 0)},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"version", edit(func(b []byte) []byte { b[3] = 2; return b })},
		{"grid", edit(func(b []byte) []byte { b[4] = 16; return b })},
		// Point (0,0) set to 0b010 in the planes (bit 1 only).
		{"code 010", edit(func(b []byte) []byte { b[5+grid*4] = 1; return b })},
		// Point (0,0) set to 0b101 (bits 0 and 2).
		{"code 101", edit(func(b []byte) []byte { b[5] = 1; b[5+2*grid*4] = 1; return b })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tp Template
			if err := tp.UnmarshalBinary(tt.data); !errors.Is(err, ErrFormat) {
				t.Fatalf("UnmarshalBinary error = %v, want ErrFormat", err)
			}
			if tp != (Template{}) {
				t.Fatal("UnmarshalBinary changed the template on error")
			}
		})
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	zero, _ := Template{}.MarshalBinary()
	f.Add(zero)
	a, _ := NewTemplate(lines(5, image.Point{}, 0, 0))
	enc, _ := a.MarshalBinary()
	f.Add(enc)
	f.Add([]byte("PCC"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tp Template
		if err := tp.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		out, err := tp.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Fatal("accepted bytes do not re-encode identically")
		}
		if s := Similarity(tp, tp); s != 1 {
			t.Fatalf("self similarity %v, want 1", s)
		}
	})
}

func BenchmarkNewTemplate(b *testing.B) {
	img := lines(1, image.Point{}, 4, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewTemplate(img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSimilarity(b *testing.B) {
	x, _ := NewTemplate(lines(1, image.Point{}, 4, 1))
	y, _ := NewTemplate(lines(2, image.Point{}, 4, 2))
	b.ReportAllocs()
	for b.Loop() {
		Similarity(x, y)
	}
}
