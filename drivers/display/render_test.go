package display

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

func TestRenderToneBar(t *testing.T) {
	for _, tone := range []Tone{Info, Success, Warning, Failure} {
		img := image.NewRGBA(image.Rect(0, 0, 800, 480))
		Render(img, Screen{Name: "t", Title: "Hello", Body: "Hover your palm", Tone: tone})
		if got, want := img.RGBAAt(400, 2), ToneColour(tone); got != want {
			t.Errorf("tone %d: bar pixel %v, want %v", tone, got, want)
		}
		if got := img.RGBAAt(5, 470); got != background {
			t.Errorf("tone %d: corner pixel %v, want background %v", tone, got, background)
		}
	}
}

func TestRenderDrawsText(t *testing.T) {
	for _, size := range []image.Point{{800, 480}, {1280, 800}} {
		img := image.NewRGBA(image.Rectangle{Max: size})
		Render(img, Screen{Title: "Approved", Body: "Welcome back", Tone: Success})
		accent, body := 0, 0
		left, right := size.X, 0
		for y := 20; y < size.Y; y++ {
			for x := 0; x < size.X; x++ {
				switch img.RGBAAt(x, y) {
				case ToneColour(Success):
					accent++
				case bodyColour:
					body++
					left, right = min(left, x), max(right, x)
				}
			}
		}
		if accent < 100 || body < 100 {
			t.Errorf("%v: %d title pixels and %d body pixels, want both drawn", size, accent, body)
		}
		// Centred: the body's ink is about as far from the left as from the right edge.
		if d := left - (size.X - 1 - right); d < -size.X/20 || d > size.X/20 {
			t.Errorf("%v: body spans x %d..%d, not centred", size, left, right)
		}
	}
}

func TestRenderBlank(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 10, 110, 60))
	for i := range img.Pix {
		img.Pix[i] = 0x77
	}
	Render(img, Screen{Name: "blank"})
	for y := 10; y < 60; y++ {
		for x := 10; x < 110; x++ {
			if c := img.RGBAAt(x, y); c != (color.RGBA{0, 0, 0, 0xff}) {
				t.Fatalf("pixel (%d,%d) = %v, want black", x, y, c)
			}
		}
	}
}

func TestRenderOffsetBounds(t *testing.T) {
	full := image.NewRGBA(image.Rect(0, 0, 200, 200))
	sub := full.SubImage(image.Rect(100, 100, 200, 200)).(*image.RGBA)
	Render(sub, Screen{Title: "x", Tone: Failure})
	if c := full.RGBAAt(50, 50); c != (color.RGBA{}) {
		t.Errorf("pixel outside the target drawn: %v", c)
	}
	if c := full.RGBAAt(150, 101); c != ToneColour(Failure) {
		t.Errorf("bar of the sub-image = %v, want %v", c, ToneColour(Failure))
	}
}

func TestWrap(t *testing.T) {
	f, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	fc := face(f[1], 24)
	defer fc.Close()
	width := fixed.I(200)
	tests := []struct {
		text string
		min  int
		max  int
	}{
		{"", 0, 0},
		{"short", 1, 1},
		{"one\ntwo", 2, 2},
		{"one\n\nthree", 3, 3},
		{"a fairly long sentence that cannot fit on one line of two hundred pixels", 3, 6},
	}
	for _, tt := range tests {
		lines := wrap(fc, tt.text, width)
		if len(lines) < tt.min || len(lines) > tt.max {
			t.Errorf("wrap(%q) = %d lines %q, want %d..%d", tt.text, len(lines), lines, tt.min, tt.max)
		}
		for _, l := range lines {
			if w := font.MeasureString(fc, l); w > width && strings.Contains(l, " ") {
				t.Errorf("wrap(%q): line %q is %v wide, more than %v", tt.text, l, w, width)
			}
		}
	}
}

func BenchmarkRender(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1280, 800))
	s := Screen{Title: "Hold still", Body: "Keep your palm flat about a hand's width above the scanner", Tone: Warning}
	b.ReportAllocs()
	for b.Loop() {
		Render(img, s)
	}
}
