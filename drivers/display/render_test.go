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

func TestFits(t *testing.T) {
	long := strings.Repeat("A sentence that goes on and on. ", 40)
	tests := []struct {
		name string
		s    Screen
		size image.Point
		ok   bool
	}{
		{"short", Screen{Name: "a", Title: "Welcome", Body: "Go ahead", Icon: TickIcon}, image.Pt(800, 480), true},
		{"payment", Screen{Name: "p", Title: "Pay", Amount: "€12.50", Merchant: "Corner Café", Body: "Hover your palm to pay.", Icon: HandIcon, Footer: "8 s left", Progress: 0.3}, image.Pt(800, 480), true},
		{"too tall", Screen{Name: "b", Title: "Welcome", Body: long, Icon: HandIcon}, image.Pt(800, 480), false},
		{"word too wide", Screen{Name: "c", Title: strings.Repeat("W", 40)}, image.Pt(800, 480), false},
	}
	for _, tt := range tests {
		err := Fits(tt.size, tt.s)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Fits = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), `"`+tt.s.Name+`"`) {
			t.Errorf("%s: error %q does not name the screen", tt.name, err)
		}
	}
}

// inkIn counts the pixels of colour c in r.
func inkIn(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

// The amount is drawn large in the body colour, the merchant in the dim
// one, above the picture.
func TestRenderPaymentFields(t *testing.T) {
	base := Screen{Name: "pay", Title: "Pay", Body: "Hover your palm", Icon: HandIcon}
	with := base
	with.Amount, with.Merchant = "€12.50", "Corner Café"
	a := image.NewRGBA(image.Rect(0, 0, 800, 480))
	b := image.NewRGBA(image.Rect(0, 0, 800, 480))
	Render(a, base)
	Render(b, with)
	if got, was := inkIn(b, b.Rect, dimColour), inkIn(a, a.Rect, dimColour); got <= was+50 {
		t.Errorf("merchant: %d dim pixels, %d without it", got, was)
	}
	if got, was := inkIn(b, b.Rect, bodyColour), inkIn(a, a.Rect, bodyColour); got <= was+500 {
		t.Errorf("amount: %d body pixels, %d without it", got, was)
	}
}

// The marker follows the hand: drawn to the left of the target's centre for
// a hand to the left, in green when in range and centred, amber when not.
func TestRenderHandMarker(t *testing.T) {
	tests := []struct {
		name string
		hand Hand
		left bool
		c    color.RGBA
	}{
		{"left, too far", Hand{X: -0.8, DistanceMM: 300, NearMM: 70, FarMM: 260}, true, ToneColour(Warning)},
		{"right, too far", Hand{X: 0.8, DistanceMM: 300, NearMM: 70, FarMM: 260}, false, ToneColour(Warning)},
		{"centred, in range", Hand{X: -0.1, DistanceMM: 150, NearMM: 70, FarMM: 260}, true, ToneColour(Success)},
	}
	for _, tt := range tests {
		img := image.NewRGBA(image.Rect(0, 0, 800, 480))
		// Info tone: the outline is blue, so the marker's colour is its own.
		Render(img, Screen{Name: "g", Title: "Hold still", Icon: HandIcon, Hand: &tt.hand})
		mid := img.Rect.Dx() / 2
		l := inkIn(img, image.Rect(mid-200, 0, mid, 480), tt.c)
		r := inkIn(img, image.Rect(mid, 0, mid+60, 480), tt.c) // the gauge is further right
		if (l > r) != tt.left || l+r == 0 {
			t.Errorf("%s: marker pixels left %d, right %d", tt.name, l, r)
		}
	}
}
