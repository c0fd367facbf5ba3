package synth

import (
	"math"
	"math/rand/v2"
)

// The canonical canvas: every scene renders its hand or attack once into
// this raster, and Render only warps it into the frame.
const (
	canvasK  = 300.0 // canvas pixels per palm width
	canvasU0 = -1.0  // canonical u of canvas column 0
	canvasV1 = 1.75  // canonical v of canvas row 0
	canvasW  = 660
	canvasH  = 945
)

// toCanvas maps canonical space to (fractional) canvas pixel coordinates.
func toCanvas(p vec) (x, y float64) {
	return (p.u - canvasU0) * canvasK, (canvasV1 - p.v) * canvasK
}

// fromCanvas maps a canvas pixel centre to canonical space.
func fromCanvas(x, y int) vec {
	return vec{float64(x)/canvasK + canvasU0, canvasV1 - float64(y)/canvasK}
}

// layer is a float canvas.
type layer []float32

func newLayer() layer { return make(layer, canvasW*canvasH) }

func (l layer) fill(v float32) {
	for i := range l {
		l[i] = v
	}
}

// stroke paints a tapered segment from a to b (canonical space) with radii
// ra, rb, keeping the maximum of amp*(1-q²)² where q is the distance to the
// axis over the local radius.
func (l layer) stroke(a, b vec, ra, rb, amp float64) {
	ax, ay := toCanvas(a)
	bx, by := toCanvas(b)
	ra, rb = ra*canvasK, rb*canvasK
	rm := max(ra, rb)
	x0 := max(int(math.Floor(min(ax, bx)-rm)), 0)
	x1 := min(int(math.Ceil(max(ax, bx)+rm)), canvasW-1)
	y0 := max(int(math.Floor(min(ay, by)-rm)), 0)
	y1 := min(int(math.Ceil(max(ay, by)+rm)), canvasH-1)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	for y := y0; y <= y1; y++ {
		row := l[y*canvasW : (y+1)*canvasW]
		for x := x0; x <= x1; x++ {
			px, py := float64(x)-ax, float64(y)-ay
			t := 0.0
			if l2 > 0 {
				t = max(0, min(1, (px*dx+py*dy)/l2))
			}
			ex, ey := px-t*dx, py-t*dy
			r := ra + (rb-ra)*t
			q2 := (ex*ex + ey*ey) / (r * r)
			if q2 >= 1 {
				continue
			}
			v := float32(amp * (1 - q2) * (1 - q2))
			if v > row[x] {
				row[x] = v
			}
		}
	}
}

// strokeCrease paints a crease along its Bezier curve, fading at the ends.
func (l layer) strokeCrease(c crease) {
	const n = 32
	at := func(t float64) vec {
		p := c.at(t)
		if c.wobble == 0 {
			return p
		}
		d := c.at(min(t+0.01, 1)).sub(c.at(max(t-0.01, 0)))
		side := vec{-d.v, d.u}.scale(1 / max(d.len(), 1e-9))
		w := math.Sin(2*math.Pi*c.freq*t+c.phase) + 0.4*math.Sin(2*math.Pi*2.7*c.freq*t+2*c.phase)
		return p.add(side.scale(c.wobble * w))
	}
	prev := at(0)
	for i := 1; i <= n; i++ {
		t := float64(i) / n
		p := at(t)
		fade := math.Sin(math.Pi * (t - 0.5/n))
		w := c.width * (0.5 + 0.5*fade)
		depth := c.depth * math.Sqrt(fade) * (0.8 + 0.2*math.Cos(2*math.Pi*c.freq*0.6*t+c.phase))
		l.stroke(prev, p, w, w, depth)
		prev = p
	}
}

// blur approximates a Gaussian of standard deviation sigma (canvas pixels):
// small sigmas by passes of a three-tap kernel, larger ones by three box
// passes in each direction. tmp must be as long as l.
func (l layer) blur(tmp layer, sigma float64) {
	v := sigma * sigma
	if v < 0.05 {
		return
	}
	if sigma < 2 {
		// Each pass of [a, 1-2a, a] adds variance 2a, with a ≤ 0.3.
		n := int(math.Ceil(v / 0.6))
		a := float32(v / float64(2*n))
		for range n {
			tap3Rows(l, tmp, a)
			tap3Cols(tmp, l, a)
		}
		return
	}
	// Three boxes of radius r add variance r(r+1).
	r := max(int(math.Round(math.Sqrt(v+0.25)-0.5)), 1)
	for range 3 {
		boxRows(l, tmp, canvasW, canvasH, r)
		boxCols(tmp, l, canvasW, canvasH, r)
	}
}

func tap3Rows(src, dst layer, a float32) {
	c := 1 - 2*a
	for y := range canvasH {
		s := src[y*canvasW : (y+1)*canvasW]
		d := dst[y*canvasW : (y+1)*canvasW]
		d[0] = c*s[0] + a*(s[0]+s[1])
		for x := 1; x < canvasW-1; x++ {
			d[x] = c*s[x] + a*(s[x-1]+s[x+1])
		}
		d[canvasW-1] = c*s[canvasW-1] + a*(s[canvasW-2]+s[canvasW-1])
	}
}

func tap3Cols(src, dst layer, a float32) {
	c := 1 - 2*a
	for y := range canvasH {
		up := src[max(y-1, 0)*canvasW:][:canvasW]
		s := src[y*canvasW:][:canvasW]
		dn := src[min(y+1, canvasH-1)*canvasW:][:canvasW]
		d := dst[y*canvasW:][:canvasW]
		for x := range d {
			d[x] = c*s[x] + a*(up[x]+dn[x])
		}
	}
}

// boxRows writes to dst the running mean of src over 2r+1 pixels along rows,
// replicating edge pixels.
func boxRows(src, dst layer, w, h, r int) {
	inv := 1 / float32(2*r+1)
	for y := range h {
		s := src[y*w : (y+1)*w]
		d := dst[y*w : (y+1)*w]
		var acc float32
		for k := -r; k <= r; k++ {
			acc += s[min(max(k, 0), w-1)]
		}
		for x := range w {
			d[x] = acc * inv
			acc += s[min(x+r+1, w-1)] - s[max(x-r, 0)]
		}
	}
}

// boxCols is boxRows along columns.
func boxCols(src, dst layer, w, h, r int) {
	inv := 1 / float32(2*r+1)
	acc := make([]float32, w)
	for k := -r; k <= r; k++ {
		row := src[min(max(k, 0), h-1)*w:]
		for x := range w {
			acc[x] += row[x]
		}
	}
	for y := range h {
		d := dst[y*w : (y+1)*w]
		add := src[min(y+r+1, h-1)*w:]
		sub := src[max(y-r, 0)*w:]
		for x := range w {
			d[x] = acc[x] * inv
			acc[x] += add[x] - sub[x]
		}
	}
}

// lineBlur smears l along direction (dx, dy) over length canvas pixels, as a
// moving hand does during the exposure.
func (l layer) lineBlur(tmp layer, dx, dy, length float64) {
	n := int(length + 0.5)
	if n < 2 {
		return
	}
	offs := make([][2]int, n)
	for i := range offs {
		t := float64(i) - float64(n-1)/2
		offs[i] = [2]int{int(math.Round(t * dx)), int(math.Round(t * dy))}
	}
	inv := 1 / float32(n)
	for y := range canvasH {
		for x := range canvasW {
			var acc float32
			for _, o := range offs {
				xx := min(max(x+o[0], 0), canvasW-1)
				yy := min(max(y+o[1], 0), canvasH-1)
				acc += l[yy*canvasW+xx]
			}
			tmp[y*canvasW+x] = acc * inv
		}
	}
	copy(l, tmp)
}

// noiseField is smooth value noise: a random grid upsampled with smoothstep
// interpolation to the canvas.
type noiseField struct {
	gw, gh int
	g      []float32
}

func newNoiseField(r *rand.Rand, cells int) noiseField {
	gw := cells + 2
	gh := cells*canvasH/canvasW + 2
	f := noiseField{gw: gw, gh: gh, g: make([]float32, gw*gh)}
	for i := range f.g {
		f.g[i] = float32(r.Float64()*2 - 1)
	}
	return f
}

// at samples the field at canvas pixel (x, y).
func (f noiseField) at(x, y int) float32 {
	fx := float32(x) * float32(f.gw-2) / canvasW
	fy := float32(y) * float32(f.gh-2) / canvasH
	ix, iy := int(fx), int(fy)
	tx, ty := fx-float32(ix), fy-float32(iy)
	tx = tx * tx * (3 - 2*tx)
	ty = ty * ty * (3 - 2*ty)
	i := iy*f.gw + ix
	a := f.g[i] + (f.g[i+1]-f.g[i])*tx
	b := f.g[i+f.gw] + (f.g[i+f.gw+1]-f.g[i+f.gw])*tx
	return a + (b-a)*ty
}
