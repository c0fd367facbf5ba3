package synth

import (
	"math"
	"math/rand/v2"
)

// ledFalloff is the LED illumination at a frame position relative to the
// centre (a wide LED ring and lens vignetting).
func ledFalloff(x, y float64) float64 {
	dx, dy := (x-Width/2)/(Width/2), (y-Height/2)/(Width/2)
	return 1 - 0.28*(dx*dx+dy*dy)
}

// composeHand renders a hand of skin (or silicone) under both lights.
func (s *Scene) composeHand(lit, unlit layer, o handOptions) {
	a, cp, e := s.anat, s.params, s.params.exp
	h := rasterizeHand(a, cp.hand, o)
	fwd := cp.pose.forward()
	td := vec{math.Cos(cp.pose.tiltDir), -math.Sin(cp.pose.tiltDir)}
	for i := range lit {
		m := float64(h.mask[i])
		if m == 0 {
			lit[i], unlit[i] = float32(e.bgLit), float32(e.bgAmb)
			continue
		}
		x, y := i%canvasW, i/canvasW
		q := fromCanvas(x, y)
		fx, fy := fwd.apply(q)
		nz := float64(h.shade[i])
		ledShade := 0.15 + 0.85*nz*math.Sqrt(math.Sqrt(nz)) // about nz^1.25
		ambShade := (0.55 + 0.45*nz) * max(0.3, 1+e.ambDir.dot(q))
		refl := float64(h.refl[i])
		veinLit, veinAmb := 1.0, 1.0
		if h.vein != nil {
			v := float64(h.vein[i])
			veinLit = 1 - a.veinAmp*v
			veinAmb = 1 - 0.15*a.veinAmp*v
		}
		tilt := 1 + e.tiltG*q.dot(td)
		skinLit := e.led*ledFalloff(fx, fy)*tilt*ledShade*refl*veinLit + e.ambient*ambShade*refl*veinAmb
		skinAmb := e.ambient * ambShade * refl * veinAmb
		// A specular sheen where the surface faces the LEDs: faint on skin,
		// stronger on silicone.
		n8 := nz * nz * nz * nz
		n8 *= n8
		skinLit += e.led * o.sheen * n8 * n8 * n8 * n8 * n8 // nz^40
		lit[i] = float32(e.bgLit*(1-m) + skinLit*m)
		unlit[i] = float32(e.bgAmb*(1-m) + skinAmb*m)
	}
}

// composePrint renders a palm photo printed on paper: flat, uniformly
// reflective, halftoned, with visible paper edges and no veins.
func (s *Scene) composePrint(lit, unlit layer, r *rand.Rand) {
	a, cp, e := s.anat, s.params, s.params.exp
	// The photo was taken in visible light: creases and shading, no veins.
	h := rasterizeHand(a, cp.hand, handOptions{forearm: true, creaseGain: 1.4, texGain: 0.8})
	fwd := cp.pose.forward()
	paper := newNoiseField(r, 160)
	curl := vec{uniform(r, -0.06, 0.06), uniform(r, -0.06, 0.06)}
	// The sheet, in canonical units, and the photo inside its white margin.
	const su0, su1, sv0, sv1, margin = -0.92, 1.12, -1.3, 1.68, 0.05
	skin := uniform(r, 0.55, 0.7) // printed skin tone
	cloth := uniform(r, 0.12, 0.25)
	// A clustered-dot halftone screen at an angle: cosines per row and column
	// of the rotated lattice.
	const period = 3.6 // canvas pixels
	ang := uniform(r, 0.3, 0.5)
	ca, sa := math.Cos(ang)*2*math.Pi/period, math.Sin(ang)*2*math.Pi/period
	// cos(x·ca + y·sa) and cos(y·ca - x·sa) by angle addition from tables.
	type cs struct{ c1, s1, c2, s2 float64 }
	tx, ty := make([]cs, canvasW), make([]cs, canvasH)
	for x := range tx {
		f := float64(x)
		tx[x] = cs{math.Cos(f * ca), math.Sin(f * ca), math.Cos(-f * sa), math.Sin(-f * sa)}
	}
	for y := range ty {
		f := float64(y)
		ty[y] = cs{math.Cos(f * sa), math.Sin(f * sa), math.Cos(f * ca), math.Sin(f * ca)}
	}
	for i := range lit {
		x, y := i%canvasW, i/canvasW
		q := fromCanvas(x, y)
		edge := min(min(q.u-su0, su1-q.u), min(q.v-sv0, sv1-q.v)) * canvasK
		cover := max(0, min(1, edge+0.5))
		if cover == 0 {
			lit[i], unlit[i] = float32(e.bgLit), float32(e.bgAmb)
			continue
		}
		m := float64(h.mask[i])
		tone := cloth*(1-m) + m*skin*(0.55+0.45*float64(h.shade[i]))*float64(h.refl[i])
		if edge < margin*canvasK {
			tone = 1
		}
		hx, hy := tx[x], ty[y]
		screen := 0.5 + 0.25*(hx.c1*hy.c1-hx.s1*hy.s1+hy.c2*hx.c2-hy.s2*hx.s2)
		ink := max(0, min(1, ((1-tone)-screen)*3+0.5))
		refl := (0.92 - 0.5*ink) * (1 + 0.04*float64(paper.at(x, y)))
		fx, fy := fwd.apply(q)
		flat := 1 + curl.dot(q)
		pl := e.led*0.95*ledFalloff(fx, fy)*flat*refl + e.ambient*refl
		pa := e.ambient * refl
		lit[i] = float32(e.bgLit*(1-cover) + pl*cover)
		unlit[i] = float32(e.bgAmb*(1-cover) + pa*cover)
	}
}

// composeScreen renders a tablet replaying a palm image: the display emits
// the same light with the LEDs on or off, shows its pixel grid and moiré,
// and sits in a dark bezel; its glass reflects the LEDs.
func (s *Scene) composeScreen(lit, unlit layer, r *rand.Rand) {
	a, cp, e := s.anat, s.params, s.params.exp
	h := rasterizeHand(a, cp.hand, handOptions{forearm: true, veins: true, creaseGain: 1, texGain: 1})
	fwd := cp.pose.forward()
	const du0, du1, dv0, dv1, bezel = -0.88, 1.08, -1.15, 1.6, 0.09
	emit := uniform(r, 165, 200) * math.Sqrt(e.led/160)
	// The display's pixel grid, and the moiré it beats into with the
	// sensor's pixels: two slow waves at an angle.
	pitch := uniform(r, 2.4, 3.2)
	gx, gy := make([]float64, canvasW), make([]float64, canvasH)
	for x := range gx {
		gx[x] = 0.75 + 0.25*math.Cos(2*math.Pi*float64(x)/pitch)
	}
	for y := range gy {
		gy[y] = 0.88 + 0.12*math.Cos(2*math.Pi*float64(y)/pitch)
	}
	// Each wave is cos(k·(x, y)), taken by angle addition from tables.
	type cs struct{ c, s float64 }
	var wx [2][]cs
	var wy [2][]cs
	for i := range wx {
		ang, per := uniform(r, 0, math.Pi), uniform(r, 9, 22)
		k := vec{math.Cos(ang), math.Sin(ang)}.scale(2 * math.Pi / per)
		wx[i], wy[i] = make([]cs, canvasW), make([]cs, canvasH)
		for x := range wx[i] {
			wx[i][x] = cs{math.Cos(k.u * float64(x)), math.Sin(k.u * float64(x))}
		}
		for y := range wy[i] {
			wy[i][y] = cs{math.Cos(k.v * float64(y)), math.Sin(k.v * float64(y))}
		}
	}
	// Reflections of the LED ring in the glass.
	var hot [3]vec
	c := vec{uniform(r, -0.2, 0.2), uniform(r, -0.2, 0.3)}
	for i := range hot {
		t := 2 * math.Pi * float64(i) / float64(len(hot))
		hot[i] = c.add(vec{0.07 * math.Cos(t), 0.07 * math.Sin(t)})
	}
	for i := range lit {
		x, y := i%canvasW, i/canvasW
		q := fromCanvas(x, y)
		in := min(min(q.u-du0, du1-q.u), min(q.v-dv0, dv1-q.v))
		body := max(0, min(1, (in+bezel)*canvasK+0.5))
		if body == 0 {
			lit[i], unlit[i] = float32(e.bgLit), float32(e.bgAmb)
			continue
		}
		fx, fy := fwd.apply(q)
		led := e.led * ledFalloff(fx, fy)
		// Bezel: dark plastic and glass.
		bl := led*0.1 + e.ambient*0.1
		ba := e.ambient * 0.1
		if in > 0 {
			disp := max(0, min(1, in*canvasK+0.5))
			m := float64(h.mask[i])
			tone := 0.08 + m*0.85*(0.15+0.85*float64(h.shade[i]))*float64(h.refl[i])
			if h.vein != nil {
				tone *= 1 - 0.8*a.veinAmp*float64(h.vein[i])*m
			}
			moire := 1.0
			for w, amp := range [2]float64{0.06, 0.05} {
				ax, ay := wx[w][x], wy[w][y]
				moire += amp * (ax.c*ay.c - ax.s*ay.s)
			}
			em := emit * (0.04 + 0.96*tone) * gx[x] * gy[y] * moire
			glare := 0.0
			for _, c := range hot {
				d := q.sub(c)
				if d2 := d.dot(d); d2 < 0.004 {
					glare += 0.6 * math.Exp(-d2/0.0004)
				}
			}
			bl = bl*(1-disp) + disp*(em+led*(0.03+glare))
			ba = ba*(1-disp) + disp*em
		}
		lit[i] = float32(e.bgLit*(1-body) + bl*body)
		unlit[i] = float32(e.bgAmb*(1-body) + ba*body)
	}
}
