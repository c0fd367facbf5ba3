package display

import (
	"fmt"
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
	dimColour  = color.RGBA{0x8a, 0x94, 0xa0, 0xff}
	panel      = color.RGBA{0x1c, 0x23, 0x2d, 0xff}
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

// layout is where a screen's parts go on a panel of one size: every size
// follows the panel's height, so the same screen reads well at 800x480 and
// 1280x800.
type layout struct {
	r                           image.Rectangle
	bar                         int
	title, amount, merchant     []string
	body                        []string
	titleFace, amountFace       font.Face
	bodyFace, footFace          font.Face
	titleLine, amountLine, line int
	icon                        int // side of the icon's square, 0 without one
	gap                         int
	top                         int // y of the block's top
	footer                      int // y of the footer's top
	progress                    image.Rectangle
	width                       fixed.Int26_6
	overflow                    error
}

func (l *layout) close() {
	for _, f := range []font.Face{l.titleFace, l.amountFace, l.bodyFace, l.footFace} {
		if f != nil {
			f.Close()
		}
	}
}

func newLayout(r image.Rectangle, s Screen) (*layout, error) {
	f, err := fonts()
	if err != nil {
		return nil, err
	}
	h := r.Dy()
	l := &layout{r: r, bar: max(h/60, 4), gap: h / 40}
	l.titleFace = face(f[0], float64(h)/12)
	l.amountFace = face(f[0], float64(h)/9)
	l.bodyFace = face(f[1], float64(h)/21)
	l.footFace = face(f[1], float64(h)/28)
	l.width = fixed.I(r.Dx() * 88 / 100)
	l.title = wrap(l.titleFace, s.Title, l.width)
	l.amount = wrap(l.amountFace, s.Amount, l.width)
	l.merchant = wrap(l.bodyFace, s.Merchant, l.width)
	l.body = wrap(l.bodyFace, s.Body, l.width)
	l.titleLine = l.titleFace.Metrics().Height.Ceil()
	l.amountLine = l.amountFace.Metrics().Height.Ceil()
	l.line = l.bodyFace.Metrics().Height.Ceil() * 13 / 10
	if s.Icon != NoIcon {
		l.icon = h * 30 / 100
	}
	bottom := r.Max.Y - l.gap
	if s.Progress > 0 {
		ph := max(h/48, 4)
		l.progress = image.Rect(r.Min.X+r.Dx()/10, bottom-ph, r.Max.X-r.Dx()/10, bottom)
		bottom = l.progress.Min.Y - l.gap/2
	}
	if s.Footer != "" {
		l.footer = bottom - l.footFace.Metrics().Height.Ceil()
		bottom = l.footer - l.gap/2
	}
	total := l.blockHeight()
	space := bottom - (r.Min.Y + l.bar + l.gap)
	// Centre the block in the space below the bar, a little above the
	// middle where the eye lands first.
	l.top = r.Min.Y + l.bar + l.gap + max((space-total)*2/5, 0)
	if total > space {
		l.overflow = fmt.Errorf("display: screen %q at %dx%d: its text and picture are %d px tall, the panel has %d", s.Name, r.Dx(), r.Dy(), total, space)
	}
	for _, part := range []struct {
		fc    font.Face
		lines []string
	}{{l.titleFace, l.title}, {l.amountFace, l.amount}, {l.bodyFace, l.merchant}, {l.bodyFace, l.body}, {l.footFace, []string{s.Footer}}} {
		for _, ln := range part.lines {
			if font.MeasureString(part.fc, ln) > l.width {
				l.overflow = fmt.Errorf("display: screen %q at %dx%d: %q is wider than the panel", s.Name, r.Dx(), r.Dy(), ln)
			}
		}
	}
	return l, nil
}

// blockHeight is the height of everything between the bar and the footer.
func (l *layout) blockHeight() int {
	n := len(l.title) * l.titleLine
	add := func(part int) {
		if part > 0 {
			if n > 0 {
				n += l.gap
			}
			n += part
		}
	}
	add(len(l.amount)*l.amountLine + len(l.merchant)*l.line)
	add(l.icon)
	add(len(l.body) * l.line)
	return n
}

// Fits reports whether every line and the picture of s fit a panel of the
// given size, and says what does not.
func Fits(size image.Point, s Screen) error {
	l, err := newLayout(image.Rectangle{Max: size}, s)
	if err != nil {
		return err
	}
	defer l.close()
	return l.overflow
}

// Render draws s onto dst, filling all of dst.Bounds(): a coloured bar at
// the top in the screen's tone; the title in large bold type in the tone's
// colour; the amount and merchant of a payment; the icon (with the hand's
// live position against the target); the body; a footer and a progress bar
// at the bottom. Everything is centred and sized after the height of dst. A
// screen with neither title nor body is drawn black (a blanked display).
func Render(dst draw.Image, s Screen) {
	r := dst.Bounds()
	if s.Title == "" && s.Body == "" {
		draw.Draw(dst, r, image.Black, image.Point{}, draw.Src)
		return
	}
	draw.Draw(dst, r, image.NewUniform(background), image.Point{}, draw.Src)
	accent := ToneColour(s.Tone)
	draw.Draw(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+max(r.Dy()/60, 4)), image.NewUniform(accent), image.Point{}, draw.Src)
	l, err := newLayout(r, s)
	if err != nil {
		// The embedded Go fonts always parse; without them only the
		// colours can be shown.
		return
	}
	defer l.close()
	y := drawLines(dst, l.titleFace, accent, l.title, r, l.top, l.titleLine)
	if len(l.amount)+len(l.merchant) > 0 {
		y += l.gap
		y = drawLines(dst, l.amountFace, bodyColour, l.amount, r, y, l.amountLine)
		y = drawLines(dst, l.bodyFace, dimColour, l.merchant, r, y, l.line)
	}
	if l.icon > 0 {
		y += l.gap
		box := image.Rect(r.Min.X+(r.Dx()-l.icon)/2, y, r.Min.X+(r.Dx()+l.icon)/2, y+l.icon)
		drawIcon(dst, s, box, accent, l.footFace)
		y += l.icon
	}
	if len(l.body) > 0 {
		drawLines(dst, l.bodyFace, bodyColour, l.body, r, y+l.gap, l.line)
	}
	if s.Footer != "" {
		drawLines(dst, l.footFace, dimColour, []string{s.Footer}, r, l.footer, 0)
	}
	if s.Progress > 0 {
		p := l.progress
		draw.Draw(dst, p, image.NewUniform(panel), image.Point{}, draw.Src)
		done := p
		done.Max.X = p.Min.X + int(float64(p.Dx())*min(s.Progress, 1))
		draw.Draw(dst, done, image.NewUniform(accent), image.Point{}, draw.Src)
	}
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

func fixedPt(x, y int) fixed.Point26_6 { return fixed.P(x, y) }
