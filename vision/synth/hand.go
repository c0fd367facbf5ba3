package synth

import (
	"math"
	"math/rand/v2"
)

// handPose is how the hand is held in one capture: finger spread and flexion,
// thumb abduction. It belongs to the capture, not the person.
type handPose struct {
	fingerAngle [4]float64 // radians from +v towards +u
	fingerFore  [4]float64 // foreshortening from flexion, 0..1
	thumbAngle  float64
	thumbFore   float64
}

func newHandPose(r *rand.Rand, a *anatomy) handPose {
	spread := uniform(r, 0.5, 1.7)
	var p handPose
	for i, f := range a.fingers {
		p.fingerAngle[i] = f.angle*spread + uniform(r, -0.04, 0.04)
		p.fingerFore[i] = uniform(r, 0.86, 1.0)
	}
	p.thumbAngle = a.thumb.angle + uniform(r, -0.2, 0.2)
	p.thumbFore = uniform(r, 0.8, 0.97)
	return p
}

// handLayers is a hand rasterised on the canvas.
type handLayers struct {
	mask   layer // coverage 0..1
	shade  layer // cosine of the surface normal to the camera axis, 0..1
	hx, hy layer // height slope along canvas x and y (height and position in palm widths)
	height layer // height above the palm plane, palm widths
	refl   layer // skin reflectance: texture and creases, about 1
	vein   layer // vein density 0..1 (already blurred by skin scattering)
}

// handOptions switch parts of the model off for attacks.
type handOptions struct {
	forearm    bool    // false: the hand ends at a cut wrist (a replica)
	veins      bool    // rasterise the vein tree
	creaseGain float64 // scales crease depth
	texGain    float64 // scales skin texture
}

// sdf primitives, distances in canonical units.

func sdRoundBox(p vec, hu, hv, r float64) float64 {
	qu := math.Abs(p.u) - hu + r
	qv := math.Abs(p.v) - hv + r
	mu, mv := max(qu, 0), max(qv, 0)
	out := math.Sqrt(mu*mu + mv*mv)
	return out + min(max(qu, qv), 0) - r
}

func sdEllipse(p, c vec, ru, rv float64) float64 {
	d := vec{(p.u - c.u) / ru, (p.v - c.v) / rv}
	return (d.len() - 1) * min(ru, rv)
}

// sdTaper is a capsule from a to b whose radius goes from ra to rb.
func sdTaper(p, a, b vec, ra, rb float64) float64 {
	ab := b.sub(a)
	t := max(0, min(1, p.sub(a).dot(ab)/ab.dot(ab)))
	return p.sub(a.add(ab.scale(t))).len() - (ra + (rb-ra)*t)
}

// smin is the polynomial smooth minimum: unions that blend over k.
func smin(a, b, k float64) float64 {
	h := max(k-math.Abs(a-b), 0) / k
	return min(a, b) - h*h*k*0.25
}

// rasterizeHand renders the person's hand, posed, onto the canvas.
func rasterizeHand(a *anatomy, hp handPose, o handOptions) *handLayers {
	const margin = 0.14 // distance beyond which the sdf is not needed exactly
	top, bot := a.palmLen/2, -a.palmLen/2
	sd := newLayer()
	sd.fill(margin)
	// region applies f to the canvas pixels within a box around lo..hi.
	region := func(lo, hi vec, f func(p vec, d float64) float64) {
		x0, y1 := toCanvas(lo.sub(vec{margin, margin}))
		x1, y0 := toCanvas(hi.add(vec{margin, margin}))
		for y := max(int(y0), 0); y <= min(int(y1)+1, canvasH-1); y++ {
			for x := max(int(x0), 0); x <= min(int(x1)+1, canvasW-1); x++ {
				i := y*canvasW + x
				sd[i] = float32(min(f(fromCanvas(x, y), float64(sd[i])), margin))
			}
		}
	}
	// Palm with thenar and hypothenar eminences.
	region(vec{-0.6, bot - 0.1}, vec{0.6, top + 0.05}, func(p vec, d float64) float64 {
		s := sdRoundBox(vec{p.u, p.v + 0.03}, 0.5, top-0.03, 0.24)
		s = smin(s, sdEllipse(p, vec{0.27, bot + 0.33}, 0.21, 0.3), 0.08)
		s = smin(s, sdEllipse(p, vec{-0.36, bot + 0.4}, 0.15, 0.32), 0.06)
		return smin(d, s, 0.05)
	})
	// Wrist and forearm, or a cut wrist.
	fa := vec{0, bot - 2.5}
	if !o.forearm {
		fa = vec{0, bot - 0.3} // a cast ends in a rounded stump
	}
	region(vec{-0.6, fa.v}, vec{0.6, bot + 0.2}, func(p vec, d float64) float64 {
		return smin(d, sdTaper(p, vec{0, bot + 0.15}, fa, a.wrist/2, a.wrist/2*1.12), 0.12)
	})
	// Fingers and thumb.
	// digit adds a finger that narrows slightly at its joints (fractions of
	// its length from the base), where the flexion creases are.
	digit := func(base vec, ang, length, w0, w1, back, k float64, joints []float64) vec {
		dir := vec{math.Sin(ang), math.Cos(ang)}
		tip := base.add(dir.scale(length))
		start := base.sub(dir.scale(back))
		lo := vec{min(start.u, tip.u) - w0, min(start.v, tip.v) - w0}
		hi := vec{max(start.u, tip.u) + w0, max(start.v, tip.v) + w0}
		total := length + back
		region(lo, hi, func(p vec, d float64) float64 {
			t := max(0, min(1, p.sub(start).dot(dir)/total))
			r := (w0 + (w1-w0)*t) / 2
			along := t*total - back // distance from the base
			for _, j := range joints {
				q := (along - j*length) / (0.06 * length)
				r *= 1 - 0.07*math.Exp(-q*q)
			}
			c := start.add(dir.scale(t * total))
			return smin(d, p.sub(c).len()-r, k)
		})
		return dir
	}
	var cs []crease
	cr := rand.New(rand.NewPCG(a.texSeed, streamCreases))
	for i, f := range a.fingers {
		l := f.length * hp.fingerFore[i]
		joints := []float64{0.42, 0.7}
		dir := digit(f.base, hp.fingerAngle[i], l, f.width, f.width*0.82, 0.14, 0.045, joints)
		cs = append(cs, fingerCreases(cr, f.base, dir, l, f.width, append([]float64{0.02}, joints...))...)
	}
	t := a.thumb
	l := t.length * hp.thumbFore
	joints := []float64{0.45, 0.72}
	dir := digit(t.base, hp.thumbAngle, l, t.width*1.5, t.width*0.85, 0, 0.1, joints)
	cs = append(cs, fingerCreases(cr, t.base, dir, l, t.width, joints)...)

	h := &handLayers{mask: newLayer(), shade: newLayer(), refl: newLayer(), hx: newLayer(), hy: newLayer()}
	height := sd // reuse: the sdf becomes the height field in place
	const rr = 0.11
	bumps := [...]struct {
		c      vec
		ru, rv float64
		amp    float64
	}{
		{vec{0.27, bot + 0.33}, 0.2, 0.28, 0.05},  // thenar
		{vec{-0.34, bot + 0.4}, 0.14, 0.3, 0.03},  // hypothenar
		{vec{0.0, 0.02}, 0.28, 0.26, -0.04},       // hollow of the palm
		{vec{0.0, top - 0.08}, 0.45, 0.09, 0.02},  // pads under the fingers
		{vec{0.0, bot - 0.25}, 0.3, 0.25, -0.015}, // wrist hollow
	}
	// Each bump is a separable Gaussian: tables per column and per row.
	var bx [len(bumps)][canvasW]float32
	var by [len(bumps)][canvasH]float32
	for k, b := range bumps {
		for x := range canvasW {
			du := (fromCanvas(x, 0).u - b.c.u) / b.ru
			bx[k][x] = float32(b.amp * math.Exp(-du*du))
		}
		for y := range canvasH {
			dv := (fromCanvas(0, y).v - b.c.v) / b.rv
			by[k][y] = float32(math.Exp(-dv * dv))
		}
	}
	for i := range sd {
		d := float64(sd[i])
		x, y := i%canvasW, i/canvasW
		h.mask[i] = float32(max(0, min(1, 0.5-d*canvasK)))
		e := min(max(-d, 0)/rr, 1)
		hv := rr * math.Sqrt(1-(1-e)*(1-e))
		if e > 0 {
			var sum float32
			for k := range bumps {
				sum += bx[k][x] * by[k][y]
			}
			hv += e * float64(sum)
		}
		height[i] = float32(hv)
	}
	// Soften the seams where primitives meet, as soft tissue does.
	tmp := newLayer()
	height.blur(tmp, 3)
	// Shading from the normal of the height field (LEDs beside the lens, so
	// light and view directions are both the camera axis).
	for y := range canvasH {
		up, dn := max(y-1, 0), min(y+1, canvasH-1)
		for x := range canvasW {
			l, r := max(x-1, 0), min(x+1, canvasW-1)
			hx := float64(height[y*canvasW+r]-height[y*canvasW+l]) * canvasK / float64(r-l)
			hy := float64(height[dn*canvasW+x]-height[up*canvasW+x]) * canvasK / float64(dn-up)
			h.shade[y*canvasW+x] = float32(1 / math.Sqrt(1+hx*hx+hy*hy))
			h.hx[y*canvasW+x], h.hy[y*canvasW+x] = float32(hx), float32(hy)
		}
	}
	h.height = height
	// Reflectance: skin texture at three scales, then creases.
	tr := rand.New(rand.NewPCG(a.texSeed, streamTexture))
	n1, n2, n3 := newNoiseField(tr, 6), newNoiseField(tr, 24), newNoiseField(tr, 90)
	amp := a.textureAmp * o.texGain
	for i := range h.refl {
		if h.mask[i] == 0 {
			continue // off the hand reflectance is never used
		}
		x, y := i%canvasW, i/canvasW
		t := 0.05*n1.at(x, y) + 0.03*n2.at(x, y) + 0.025*n3.at(x, y) + 0.02*float32(tr.Float64()-0.5)
		h.refl[i] = 1 + float32(amp)*t
	}
	c := newLayer()
	for _, k := range append(a.creases, cs...) {
		k.depth *= o.creaseGain
		c.strokeCrease(k)
	}
	c.blur(tmp, 0.8)
	for i := range h.refl {
		h.refl[i] *= 1 - c[i]
	}
	if o.veins {
		v := c // reuse
		v.fill(0)
		for _, n := range a.veins {
			if n.parent < 0 {
				continue
			}
			p := a.veins[n.parent]
			v.stroke(p.pos, n.pos, p.radius, n.radius, 1-0.5*n.depth)
		}
		for _, k := range a.veinLinks {
			p, n := a.veins[k[0]], a.veins[k[1]]
			r := min(p.radius, n.radius)
			v.stroke(p.pos, n.pos, r, r, 1-0.5*max(p.depth, n.depth))
		}
		v.blur(tmp, 0.012*canvasK)
		h.vein = v
	}
	return h
}
