package synth

import (
	"math"
	"math/rand/v2"
)

// layers are the canonical-canvas images of one scene, in grey levels above
// black at the capture's exposure: what the room alone shows (amb), what
// each LED bank adds (b1, b2) and, for a projector, what it adds when it
// flashes (emit; nil otherwise).
type layers struct {
	amb, b1, b2, emit layer
	bgAmb             float64 // outside the canvas: the ceiling
}

func newLayers() *layers {
	return &layers{amb: newLayer(), b1: newLayer(), b2: newLayer()}
}

func (l *layers) each(f func(layer)) {
	for _, x := range []layer{l.amb, l.b1, l.b2, l.emit} {
		if x != nil {
			f(x)
		}
	}
}

// newShader sets up the optics of the capture at the pose of frame 0.
func (s *Scene) newShader() *shader {
	cp := s.params
	e := cp.exp
	p := cp.motion.at(cp.pose, 0)
	d := distance(p, cp.palmMM)
	return &shader{
		fwd:      p.forward(),
		rot:      p.rot,
		dist:     d,
		mmPerU:   cp.palmMM,
		tiltDir:  vec{math.Cos(p.tiltDir), math.Sin(p.tiltDir)},
		tiltTan:  math.Tan(p.tilt),
		tiltSin:  math.Sin(p.tilt),
		k:        e.k(),
		amb:      e.amb,
		ambDir:   e.ambDir,
		ambSide:  e.ambSide,
		sunDir:   e.sunDir,
		vignette: true,
	}
}

// put blends a surface's light over the background at canvas pixel i.
func (s *Scene) put(l *layers, i int, cover, b1, b2, amb float64) {
	bg := l.bgAmb
	l.amb[i] = float32(bg*(1-cover) + amb*cover)
	l.b1[i] = float32(b1 * cover)
	l.b2[i] = float32(b2 * cover)
}

// material is how a hand-shaped surface reflects.
type material struct {
	albedo     float64
	wrap       float64 // subsurface scattering: see surface
	ks, shin   float64 // specular lobe
	texBlur    float64 // subsurface scattering blurs the texture, canvas px
	paintVeins float64 // absorption of veins painted on the surface (0: none)
}

// composeHand renders a hand of skin, or a cast of one.
func (s *Scene) composeHand(l *layers, o handOptions, m material, r *rand.Rand) {
	a, cp := s.anat, s.params
	h := rasterizeHand(a, cp.hand, o)
	sh := s.newShader()
	tmp := newLayer()
	if m.texBlur > 0 {
		h.refl.blur(tmp, m.texBlur)
	}
	var paint layer
	if m.paintVeins > 0 {
		// Veins painted on the surface: the same tree, sharp-edged, not
		// blurred by tissue.
		paint = newLayer()
		for _, n := range a.veins {
			if n.parent >= 0 {
				p := a.veins[n.parent]
				paint.stroke(p.pos, n.pos, p.radius*0.8, n.radius*0.8, 1)
			}
		}
		for i, v := range paint {
			paint[i] = float32(min(1, float64(v)*3))
		}
	}
	// A sleeve (cloth: dyed textiles are bright at 850 nm) or a metal
	// bracelet over the wrist.
	sleeveV, bracelet := math.Inf(-1), false
	if cp.sleeve {
		sleeveV = -a.palmLen/2 - uniform(r, 0.05, 0.3)
		bracelet = r.IntN(2) == 0
	}
	cloth := uniform(r, 0.45, 0.8)
	for i := range l.amb {
		mk := float64(h.mask[i])
		if mk == 0 {
			s.put(l, i, 0, 0, 0, 0)
			continue
		}
		x, y := i%canvasW, i/canvasW
		q := fromCanvas(x, y)
		sf := surface{
			heightMM: float64(h.height[i]) * cp.palmMM,
			hx:       float64(h.hx[i]), hy: float64(h.hy[i]),
			albedo: m.albedo * float64(h.refl[i]),
			ks:     m.ks, shin: m.shin, wrap: m.wrap,
		}
		if h.vein != nil {
			sf.albedo *= 1 - a.veinAmp*float64(h.vein[i])
		}
		if paint != nil {
			sf.albedo *= 1 - m.paintVeins*float64(paint[i])
		}
		if q.v < sleeveV {
			if bracelet && q.v > sleeveV-0.12 {
				sf.albedo, sf.ks, sf.shin = 0.1, 0.5, 300
				sf.heightMM += 4
			} else if !bracelet {
				sf.albedo, sf.ks = cloth*(1+0.1*math.Sin(float64(x+y)*1.3)), 0
				sf.heightMM += 6
				sf.hx, sf.hy = 0, 0
			}
		}
		b1, b2, amb := sh.light(q, sf)
		s.put(l, i, mk, b1, b2, amb)
	}
}

// nirImage is the NIR look of the identity's palm as an attacker who
// captured it would print or project it: reflectance with veins and
// creases times frontal shading, about 1 on the palm, 0 off the hand.
func (s *Scene) nirImage() *handLayers {
	a, cp := s.anat, s.params
	h := rasterizeHand(a, cp.hand, handOptions{forearm: true, veins: true, creaseGain: 1, texGain: 1})
	for i := range h.refl {
		v := float64(h.refl[i]) * (0.2 + 0.8*float64(h.shade[i]))
		if h.vein != nil {
			v *= 1 - a.veinAmp*float64(h.vein[i])
		}
		h.refl[i] = float32(v * float64(h.mask[i]))
	}
	return h
}

// sheet is a flat presentation: paper, photo paper, film or a screen.
type sheet struct {
	u0, u1, v0, v1 float64 // extent in canonical units
	albedo         func(i int, q vec) float64
	ks, shin       float64
	bezel          float64 // width of a dark border (a screen's bezel)
	bezelAlbedo    float64
}

// composeSheet renders a flat sheet, slightly bent when hand-held.
func (s *Scene) composeSheet(l *layers, sh0 sheet, r *rand.Rand, bend float64) {
	sh := s.newShader()
	cu := uniform(r, -0.3, 0.3)
	for i := range l.amb {
		x, y := i%canvasW, i/canvasW
		q := fromCanvas(x, y)
		edge := min(min(q.u-sh0.u0, sh0.u1-q.u), min(q.v-sh0.v0, sh0.v1-q.v))
		cover := max(0, min(1, (edge+sh0.bezel)*canvasK+0.5))
		if cover == 0 {
			s.put(l, i, 0, 0, 0, 0)
			continue
		}
		// A bent sheet: height bend·(u-cu)² mm, sagging along u.
		du := q.u - cu
		sf := surface{heightMM: -bend * du * du, hx: -2 * bend * du / s.params.palmMM, ks: sh0.ks, shin: sh0.shin}
		if edge < 0 {
			sf.albedo = sh0.bezelAlbedo
		} else {
			sf.albedo = sh0.albedo(i, q)
		}
		b1, b2, amb := sh.light(q, sf)
		s.put(l, i, cover, b1, b2, amb)
	}
}

// The sheet a palm is printed on or projected onto, canonical units.
const sheetU0, sheetU1, sheetV0, sheetV1 = -0.92, 1.12, -1.3, 1.68

// composePrint renders a visible-light palm photo in dye inks on paper
// (glossy: photo paper): dye inks barely absorb at 850 nm, so under the
// camera the sheet is nearly blank.
func (s *Scene) composePrint(l *layers, r *rand.Rand, glossy bool) {
	h := rasterizeHand(s.anat, s.params.hand, handOptions{forearm: true, creaseGain: 1.4, texGain: 0.8})
	paper := uniform(r, 0.78, 0.9)
	resid := uniform(r, 0.04, 0.15) // what dye absorbs at 850 nm, relative to visible
	skin, cloth := uniform(r, 0.55, 0.7), uniform(r, 0.12, 0.25)
	fibre := newNoiseField(r, 160)
	sh := sheet{u0: sheetU0, u1: sheetU1, v0: sheetV0, v1: sheetV1}
	sh.albedo = func(i int, q vec) float64 {
		m := float64(h.mask[i])
		tone := cloth*(1-m) + m*skin*(0.55+0.45*float64(h.shade[i]))*float64(h.refl[i])
		return paper * (1 - resid*(1-tone)) * (1 + 0.03*float64(fibre.at(i%canvasW, i/canvasW)))
	}
	if glossy {
		sh.ks, sh.shin = 0.05, 600
	}
	s.composeSheet(l, sh, r, uniform(r, 0, 5))
}

// composeVeinPrint renders a NIR capture of the palm, veins included,
// printed in carbon toner or an 850 nm-absorbing ink and scaled so the palm
// reflects like skin; the background is printed black or left white.
func (s *Scene) composeVeinPrint(l *layers, r *rand.Rand, bend float64) {
	h := s.nirImage()
	skin := uniform(r, 0.45, 0.62)
	bg := 0.06
	if r.IntN(2) == 0 {
		bg = uniform(r, 0.75, 0.88)
	}
	seed := r.Uint64()
	sh := sheet{u0: sheetU0, u1: sheetU1, v0: sheetV0, v1: sheetV1}
	sh.albedo = func(i int, q vec) float64 {
		m := float64(h.mask[i])
		// Toner halftone: dot-scale grain the camera barely resolves.
		grain := 1 + 0.06*(float64(mix(seed^uint64(i))&0xff)/255-0.5)
		return (bg*(1-m) + skin*float64(h.refl[i])) * grain
	}
	s.composeSheet(l, sh, r, bend)
}

// composeProjector renders matte film lit by the kiosk's LEDs and by an
// 850 nm projector showing a NIR capture of the palm; the projector's light
// goes to l.emit and is added only on the frames it flashes.
func (s *Scene) composeProjector(l *layers, r *rand.Rand) {
	h := s.nirImage()
	film := uniform(r, 0.7, 0.85)
	sh := sheet{u0: sheetU0, u1: sheetU1, v0: sheetV0, v1: sheetV1}
	sh.albedo = func(int, vec) float64 { return film }
	s.composeSheet(l, sh, r, 0)
	// The attacker sets the projector so the palm looks as bright as a hand
	// under the LEDs: about the AE target.
	power := uniform(r, 0.7, 1.2) * aeTarget
	l.emit = newLayer()
	for i := range l.emit {
		l.emit[i] = float32(power * float64(h.refl[i]))
	}
}

// composeScreen renders a phone or tablet showing a palm: its display emits
// nothing at 850 nm, so the camera sees dark glass with the LEDs' mirror
// images in it, inside a bezel.
func (s *Scene) composeScreen(l *layers, r *rand.Rand) {
	const du0, du1, dv0, dv1, bezel = -0.88, 1.08, -1.15, 1.6, 0.09
	black := uniform(r, 0.02, 0.06) // black matrix and polarisers, diffuse
	sh := sheet{u0: du0, u1: du1, v0: dv0, v1: dv1, bezel: bezel,
		bezelAlbedo: uniform(r, 0.04, 0.5), // carbon-black plastic, or NIR-clear
		ks:          0.04, shin: 3000,      // glass: 4 % Fresnel, a mirror
	}
	sh.albedo = func(int, vec) float64 { return black }
	s.composeSheet(l, sh, r, 0)
}
