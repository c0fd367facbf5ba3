package synth

import (
	"image"
	"math"
	"math/rand/v2"
)

// Scene is one capture, precomputed: the hand or attack rendered once into
// canonical lit and unlit layers, the pose and motion that place it in each
// frame, and the sensor noise. A Scene is immutable after NewScene, so Render
// may be called from several goroutines.
type Scene struct {
	anat    *anatomy
	params  captureParams
	lit     []uint16 // canvas, LEDs on, grey level ×256
	unlit   []uint16 // canvas, LEDs off, grey level ×256
	bgLit   uint16   // outside the canvas, grey level ×256
	bgUnlit uint16
	extend  bool // replicate the canvas's bottom row (the forearm leaves the frame)
	noise   []int8
	sigma   [256]int32 // noise sigma per grey level, ×8 (noise samples are ×32, levels ×256)
	seed    uint64
}

// noiseLen is the length of the precomputed noise table; each frame row
// reads Width values from a pseudo-random offset into it.
const noiseLen = 1 << 18

// NewScene renders the capture's hand or attack into canonical layers.
func NewScene(c Capture) *Scene {
	a := newAnatomy(c.Identity)
	cp := newCaptureParams(c, a)
	s := &Scene{anat: a, params: cp, seed: c.Identity ^ c.Seed<<1 ^ streamNoise}
	litF, unlitF := newLayer(), newLayer()
	r := rand.New(rand.NewPCG(c.Identity^streamTexture, c.Seed))
	switch c.Presentation {
	case PrintedPhoto:
		s.composePrint(litF, unlitF, r)
	case ScreenReplay:
		s.composeScreen(litF, unlitF, r)
	case RigidReplica:
		s.composeHand(litF, unlitF, handOptions{forearm: false, creaseGain: 0.6, texGain: 0.35, sheen: 0.12}, r)
	default:
		s.extend = true
		s.composeHand(litF, unlitF, handOptions{forearm: true, veins: true, creaseGain: 1, texGain: 1, sheen: 0.03}, r)
	}
	// Optics: defocus and motion blur, scaled into canvas pixels.
	e := cp.exp
	k := canvasK / cp.pose.scale
	tmp := newLayer()
	for _, l := range []layer{litF, unlitF} {
		if length, dx, dy := cp.motion.blurPx(); length > 1 {
			// Frame direction to canvas direction: undo rotation, flip v.
			m, _, _ := cp.pose.inverse()
			cx, cy := m[0]*dx+m[1]*dy, m[2]*dx+m[3]*dy
			n := math.Hypot(cx, cy)
			l.lineBlur(tmp, cx/n, cy/n, length*k)
		} else if e.shake > 0.5 {
			l.lineBlur(tmp, 1, 0, e.shake*k)
		}
		l.blur(tmp, e.defocus*k)
	}
	s.lit, s.unlit = fixed(litF), fixed(unlitF)
	s.bgLit, s.bgUnlit = fixed1(e.bgLit), fixed1(e.bgAmb)
	// Sensor noise: Gaussian samples, scaled per grey level by shot and read
	// noise.
	nr := rand.New(rand.NewPCG(c.Identity^streamNoise, c.Seed))
	s.noise = make([]int8, noiseLen+Width)
	for i := range s.noise {
		s.noise[i] = int8(max(-127, min(127, math.Round(nr.NormFloat64()*32))))
	}
	for v := range s.sigma {
		s.sigma[v] = int32(math.Round(8 * math.Sqrt(e.read*e.read+e.shot*float64(v))))
	}
	return s
}

// ledFalloff is the LED illumination at a frame position relative to the
// centre (a wide LED ring and lens vignetting).
func ledFalloff(x, y float64) float64 {
	dx, dy := (x-Width/2)/(Width/2), (y-Height/2)/(Width/2)
	return 1 - 0.28*(dx*dx+dy*dy)
}

// composeHand renders a hand of skin (or silicone) under both lights.
func (s *Scene) composeHand(lit, unlit layer, o handOptions, r *rand.Rand) {
	a, cp, e := s.anat, s.params, s.params.exp
	h := rasterizeHand(a, cp.hand, o, r)
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
	h := rasterizeHand(a, cp.hand, handOptions{forearm: true, creaseGain: 1.4, texGain: 0.8}, r)
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
	h := rasterizeHand(a, cp.hand, handOptions{forearm: true, veins: true, creaseGain: 1, texGain: 1}, r)
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

// fixed converts a layer to grey levels ×256: the sub-level precision
// matters in dim unlit frames, and the sensor quantises only once, in Render.
func fixed(l layer) []uint16 {
	out := make([]uint16, len(l))
	for i, v := range l {
		out[i] = fixed1(float64(v))
	}
	return out
}

func fixed1(v float64) uint16 { return uint16(max(0, min(65535, math.Round(v*256)))) }

// DistanceMM is what a time-of-flight presence sensor beside the camera
// would read at frame 0: the distance to the palm, in millimetres.
func (s *Scene) DistanceMM() int {
	return int(math.Round(distance(s.params.motion.at(s.params.pose, 0), s.anat)))
}

// Render draws frame number frame (at 30 fps) into dst, with the LEDs on
// (lit) or off. The lit and unlit frames of one index show the same instant.
// dst is normally Width x Height at the origin; Render fills the part of
// dst.Rect on the sensor and clears the rest. Render does not allocate.
func (s *Scene) Render(dst *image.Gray, frame int, lit bool) {
	r := dst.Rect.Intersect(image.Rect(0, 0, Width, Height))
	if r != dst.Rect {
		for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
			i := dst.PixOffset(dst.Rect.Min.X, y)
			clear(dst.Pix[i : i+dst.Rect.Dx()])
		}
	}
	p := s.params.motion.at(s.params.pose, frame)
	m, ox, oy := p.inverse()
	src, bg := s.unlit, int32(s.bgUnlit)
	if lit {
		src, bg = s.lit, int32(s.bgLit)
	}
	const fix = 1 << 16
	dux, dvx := int64(m[0]*fix), int64(m[2]*fix)
	maxV := int64(canvasH-1)*fix - 1
	hashBase := mix(s.seed ^ uint64(frame)<<1)
	if lit {
		hashBase = mix(hashBase ^ 1)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := dst.PixOffset(r.Min.X, y)
		row := dst.Pix[i : i+r.Dx()]
		off := int(mix(hashBase^uint64(y)) % noiseLen)
		nz := s.noise[off+r.Min.X : off+r.Max.X]
		// Start from column 0 so that every dst sees the same fixed-point
		// arithmetic.
		fx, fy := -p.cx, float64(y)-p.cy
		u := int64((m[0]*fx+m[1]*fy+ox)*fix) + int64(r.Min.X)*dux
		v := int64((m[2]*fx+m[3]*fy+oy)*fix) + int64(r.Min.X)*dvx
		for x := range row {
			vv := v
			if s.extend && vv > maxV {
				vv = maxV
			}
			ui, vi := int(u>>16), int(vv>>16)
			val := bg
			if uint(ui) < canvasW-1 && uint(vi) < canvasH-1 {
				i := vi*canvasW + ui
				fu, fv := int32(u>>8)&0xff, int32(vv>>8)&0xff
				p00, p01 := int32(src[i]), int32(src[i+1])
				p10, p11 := int32(src[i+canvasW]), int32(src[i+canvasW+1])
				top := (p00<<8 + (p01-p00)*fu) >> 8
				bot := (p10<<8 + (p11-p10)*fu) >> 8
				val = (top<<8 + (bot-top)*fv) >> 8
			}
			out := (val + int32(nz[x])*s.sigma[val>>8] + 128) >> 8
			row[x] = uint8(min(max(out, 0), 255))
			u += dux
			v += dvx
		}
	}
}

// mix is the splitmix64 finaliser: a stateless hash for per-row noise
// offsets, so frames can be rendered in any order.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
