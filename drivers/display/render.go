package display

import (
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Colours of the kiosk's screens.
var (
	background = color.RGBA{0x10, 0x14, 0x1a, 0xff}
	bodyColour = color.RGBA{0xe8, 0xec, 0xf0, 0xff}
)

// ToneColour is the accent colour of a tone: the bar at the top of the screen
// and the title.
func ToneColour(t Tone) color.RGBA {
	switch t {
	case Success:
		return color.RGBA{0x3c, 0xc8, 0x6e, 0xff}
	case Warning:
		return color.RGBA{0xf5, 0xb0, 0x2e, 0xff}
	case Failure:
		return color.RGBA{0xef, 0x4b, 0x4b, 0xff}
	default:
		return color.RGBA{0x4a, 0x9c, 0xf0, 0xff}
	}
}

// fonts are the Go fonts, parsed once; a parsed font is read-only and safe to
// share, the faces made from it are not and are made per Render.
var fonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return [2]*opentype.Font{}, err
	}
	regular, err := opentype.Parse(goregular.TTF)
	return [2]*opentype.Font{bold, regular}, err
})

// Render draws s onto dst, filling all of dst.Bounds(): a coloured bar at
// the top in the screen's tone, the title in large bold type in the tone's
// colour and the body below it in regular type, centred and wrapped to the
// width. Type sizes follow the height of dst, so the same screen reads well
// at 800x480 and 1280x800. A screen with neither title nor body is drawn
// black (a blanked display).
func Render(dst draw.Image, s Screen) {
	r := dst.Bounds()
	if s.Title == "" && s.Body == "" {
		draw.Draw(dst, r, image.Black, image.Point{}, draw.Src)
		return
	}
	draw.Draw(dst, r, image.NewUniform(background), image.Point{}, draw.Src)
	accent := ToneColour(s.Tone)
	h := r.Dy()
	bar := max(h/60, 4)
	draw.Draw(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+bar), image.NewUniform(accent), image.Point{}, draw.Src)

	f, err := fonts()
	if err != nil {
		// The embedded Go fonts always parse; without them only the
		// colours can be shown.
		return
	}
	titleFace := face(f[0], float64(h)/11)
	defer titleFace.Close()
	bodyFace := face(f[1], float64(h)/21)
	defer bodyFace.Close()

	width := fixed.I(r.Dx() * 86 / 100)
	title := wrap(titleFace, s.Title, width)
	body := wrap(bodyFace, s.Body, width)
	tm, bm := titleFace.Metrics(), bodyFace.Metrics()
	titleLine := tm.Height.Ceil()
	bodyLine := bm.Height.Ceil() * 13 / 10
	gap := 0
	if len(title) > 0 && len(body) > 0 {
		gap = bodyLine
	}
	total := len(title)*titleLine + gap + len(body)*bodyLine
	// Centre the block in the space below the bar, a little above the
	// middle where the eye lands first.
	y := r.Min.Y + bar + max((h-bar-total)*2/5, titleLine/2)
	y = drawLines(dst, titleFace, accent, title, r, y, titleLine)
	drawLines(dst, bodyFace, bodyColour, body, r, y+gap, bodyLine)
}

func face(f *opentype.Font, size float64) font.Face {
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		// NewFace fails only on a negative size or DPI.
		panic("display: " + err.Error())
	}
	return fc
}

// drawLines draws each line centred horizontally in r, the first one's top
// at y, advancing by step; it returns the y below the last line.
func drawLines(dst draw.Image, fc font.Face, c color.Color, lines []string, r image.Rectangle, y, step int) int {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: fc}
	ascent := fc.Metrics().Ascent.Ceil()
	for _, l := range lines {
		w := d.MeasureString(l).Ceil()
		d.Dot = fixed.P(r.Min.X+(r.Dx()-w)/2, y+ascent)
		d.DrawString(l)
		y += step
	}
	return y
}

// wrap splits text into lines no wider than width, breaking at spaces and at
// the newlines already in text. A word wider than width gets a line of its
// own.
func wrap(fc font.Face, text string, width fixed.Int26_6) []string {
	var lines []string
	for para := range strings.SplitSeq(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line == "" {
				line = w
				continue
			}
			if font.MeasureString(fc, line+" "+w) > width {
				lines = append(lines, line)
				line = w
				continue
			}
			line += " " + w
		}
		if line != "" || para == "" && text != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
