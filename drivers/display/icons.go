package display

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/vector"
)

// shape is an anti-aliased drawing in one icon's square: unit coordinates,
// (0,0) its centre, ±0.5 its edges. Every polygon winds the same way, so
// overlapping ones add up to their union.
type shape struct {
	z    *vector.Rasterizer
	box  image.Rectangle
	side float32
}

func newShape(box image.Rectangle) *shape {
	return &shape{z: vector.NewRasterizer(box.Dx(), box.Dy()), box: box, side: float32(box.Dx())}
}

func (s *shape) pt(x, y float64) (float32, float32) {
	return float32(x+0.5) * s.side, float32(y+0.5) * s.side
}

func (s *shape) poly(pts [][2]float64) {
	s.z.MoveTo(s.pt(pts[0][0], pts[0][1]))
	for _, p := range pts[1:] {
		s.z.LineTo(s.pt(p[0], p[1]))
	}
	s.z.ClosePath()
}

// arc appends points on the circle (cx, cy, r) from angle a0 to a1.
func arc(pts [][2]float64, cx, cy, rx, ry, a0, a1 float64) [][2]float64 {
	n := int(math.Ceil(math.Abs(a1-a0) / (2 * math.Pi) * 128))
	for i := range n + 1 {
		a := a0 + (a1-a0)*float64(i)/float64(n)
		pts = append(pts, [2]float64{cx + rx*math.Cos(a), cy + ry*math.Sin(a)})
	}
	return pts
}

func (s *shape) ellipse(cx, cy, rx, ry float64) { s.poly(arc(nil, cx, cy, rx, ry, 0, 2*math.Pi)) }

func (s *shape) disc(cx, cy, r float64) { s.ellipse(cx, cy, r, r) }

// capsule is a thick line from (x0, y0) to (x1, y1) with round ends.
func (s *shape) capsule(x0, y0, x1, y1, r float64) {
	t := math.Atan2(y1-y0, x1-x0)
	pts := arc(nil, x1, y1, r, r, t-math.Pi/2, t+math.Pi/2)
	s.poly(arc(pts, x0, y0, r, r, t+math.Pi/2, t+3*math.Pi/2))
}

// rounded is a rectangle with round corners of radius c.
func (s *shape) rounded(x0, y0, x1, y1, c float64) {
	var pts [][2]float64
	pts = arc(pts, x1-c, y0+c, c, c, -math.Pi/2, 0)
	pts = arc(pts, x1-c, y1-c, c, c, 0, math.Pi/2)
	pts = arc(pts, x0+c, y1-c, c, c, math.Pi/2, math.Pi)
	s.poly(arc(pts, x0+c, y0+c, c, c, math.Pi, 3*math.Pi/2))
}

// paint draws what was added in c, and starts a new drawing.
func (s *shape) paint(dst draw.Image, c color.Color) {
	s.z.Draw(dst, s.box, image.NewUniform(c), image.Point{})
	s.z.Reset(s.box.Dx(), s.box.Dy())
}

// hand adds a hand seen from above, palm down, fingers up, grown by pad.
func (s *shape) hand(pad float64) {
	s.ellipse(0, 0.1, 0.2+pad, 0.22+pad)
	for i, f := range [][3]float64{{-0.15, -0.33, 0.045}, {-0.05, -0.42, 0.048}, {0.06, -0.41, 0.048}, {0.16, -0.3, 0.042}} {
		s.capsule(f[0]+0.01*float64(i-1), -0.02, f[0], f[1], f[2]+pad)
	}
	s.capsule(-0.12, 0.16, -0.33, -0.02, 0.05+pad)
}

// drawIcon draws s.Icon in box; small is the face for the distance label.
func drawIcon(dst draw.Image, s Screen, box image.Rectangle, accent color.RGBA, small font.Face) {
	sh := newShape(box)
	switch s.Icon {
	case HandIcon:
		drawHand(dst, sh, s.Hand, accent, small)
	case TickIcon:
		sh.disc(0, 0, 0.46)
		sh.paint(dst, accent)
		sh.capsule(-0.2, 0.02, -0.06, 0.17, 0.045)
		sh.capsule(-0.06, 0.17, 0.22, -0.14, 0.045)
		sh.paint(dst, background)
	case CrossIcon:
		sh.disc(0, 0, 0.46)
		sh.paint(dst, accent)
		sh.capsule(-0.17, -0.17, 0.17, 0.17, 0.045)
		sh.capsule(-0.17, 0.17, 0.17, -0.17, 0.045)
		sh.paint(dst, background)
	case WaitIcon:
		for i := range 3 {
			sh.disc(-0.25+0.25*float64(i), 0, 0.07)
		}
		sh.paint(dst, accent)
	case CardIcon:
		sh.rounded(-0.42, -0.27, 0.42, 0.27, 0.05)
		sh.paint(dst, accent)
		sh.rounded(-0.39, -0.24, 0.39, 0.24, 0.03)
		sh.paint(dst, background)
		sh.rounded(-0.42, -0.15, 0.42, -0.04, 0.001)
		sh.rounded(-0.3, 0.06, -0.1, 0.16, 0.02) // the chip
		sh.paint(dst, accent)
	case KeypadIcon:
		for row := range 4 {
			for col := range 3 {
				x, y := -0.3+0.22*float64(col), -0.42+0.22*float64(row)
				sh.rounded(x-0.08, y-0.08, x+0.08, y+0.08, 0.03)
			}
		}
		sh.paint(dst, accent)
	}
}

// drawHand draws the hand-outline target and, when the gate measured one,
// the palm's position against it (a disc that grows as the hand comes
// nearer) and its distance on a gauge beside it with the accepted band.
func drawHand(dst draw.Image, sh *shape, h *Hand, accent color.RGBA, small font.Face) {
	sh.rounded(-0.5, -0.5, 0.5, 0.5, 0.06)
	sh.paint(dst, panel)
	sh.hand(0.014)
	sh.paint(dst, accent)
	sh.hand(0)
	sh.paint(dst, panel)
	if h == nil {
		return
	}
	ok := ToneColour(Success)
	mark := ToneColour(Warning)
	if h.InRange() && math.Hypot(h.X, h.Y) < 0.35 {
		mark = ok
	}
	// The palm's centre: the target's square is the camera's view.
	x, y := clampUnit(h.X)*0.45, clampUnit(h.Y)*0.45
	r := 0.1
	if h.DistanceMM > 0 {
		r = min(max(0.1*(h.NearMM+h.FarMM)/2/h.DistanceMM, 0.04), 0.3)
	}
	sh.disc(x, y, r)
	sh.paint(dst, color.RGBA{mark.R / 2, mark.G / 2, mark.B / 2, 0x80})
	sh.disc(x, y, r)
	sh.disc(x, y, r*0.8) // the same winding twice: a ring needs the other way round
	sh.paint(dst, color.Transparent)
	sh.capsule(x-r, y, x+r, y, 0.012)
	sh.capsule(x, y-r, x, y+r, 0.012)
	sh.paint(dst, mark)

	// The gauge: a track to the right of the target, the scanner at the
	// bottom; the accepted band on it, and the hand's distance.
	box := sh.box
	side := box.Dx()
	g := image.Rect(box.Max.X+side/6, box.Min.Y, box.Max.X+side/6+max(side/24, 4), box.Max.Y)
	gs := newShape(g)
	gs.side = float32(g.Dy())
	top := 1.25 * h.FarMM
	at := func(mm float64) int { return g.Max.Y - int(float64(g.Dy())*min(max(mm/top, 0), 1)) }
	draw.Draw(dst, g, image.NewUniform(panel), image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(g.Min.X, at(h.FarMM), g.Max.X, at(h.NearMM)), image.NewUniform(color.RGBA{ok.R / 2, ok.G / 2, ok.B / 2, 0xff}), image.Point{}, draw.Src)
	if h.DistanceMM > 0 {
		my := at(h.DistanceMM)
		th := max(g.Dx()/2, 2)
		draw.Draw(dst, image.Rect(g.Min.X-g.Dx(), my-th, g.Max.X+g.Dx(), my+th), image.NewUniform(mark), image.Point{}, draw.Src)
		d := font.Drawer{Dst: dst, Src: image.NewUniform(mark), Face: small}
		d.Dot = fixedPt(g.Max.X+2*g.Dx(), my+small.Metrics().Ascent.Ceil()/2)
		d.DrawString(fmt.Sprintf("%.0f cm", h.DistanceMM/10))
	}
}

func clampUnit(v float64) float64 { return min(max(v, -1), 1) }
