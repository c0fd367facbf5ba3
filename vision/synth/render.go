package synth

import (
	"image"
	"math"
	"math/rand/v2"
)

// Scene is one capture, precomputed: the hand or attack rendered once into
// canonical layers (the room's light, each LED bank's, a projector's), the
// pose and motion that place it in each frame, and the sensor. A Scene is
// immutable after NewScene, so Render may be called from several
// goroutines.
type Scene struct {
	anat      *anatomy
	params    captureParams
	amb       []uint16 // canvas, grey levels above black x 256: the room alone
	b1, b2    []uint16 // what the left and right banks add
	emit      []uint16 // what a projector adds when it flashes; nil if none
	bgAmb     int32    // outside the canvas, x 256
	black     int32    // black level x 256
	extend    bool     // replicate the canvas's bottom row (the forearm leaves the frame)
	projPhase int      // the projector flashes on frames n with (n+projPhase) even
	noise     []int8
	sigma     [256]int32 // noise sigma per grey level, x 8 (noise samples are x 32, levels x 256)
	seed      uint64
}

// noiseLen is the length of the precomputed noise table; each frame row
// reads Width values from a pseudo-random offset into it.
const noiseLen = 1 << 18

// NewScene renders the capture's hand or attack into canonical layers.
func NewScene(c Capture) *Scene {
	a := newAnatomy(c.Identity)
	cp := newCaptureParams(c, a)
	s := &Scene{anat: a, params: cp, seed: c.Identity ^ c.Seed<<1 ^ streamNoise}
	e := cp.exp
	l := newLayers()
	l.bgAmb = e.bg
	r := rand.New(rand.NewPCG(c.Identity^streamTexture, c.Seed))
	switch c.Presentation {
	case PrintedPhoto:
		s.composePrint(l, r, false)
	case GlossyPhoto:
		s.composePrint(l, r, true)
	case ScreenReplay:
		s.composeScreen(l, r)
	case VeinPrint:
		s.composeVeinPrint(l, r, uniform(r, 0, 6))
	case VeinPrintMounted:
		s.composeVeinPrint(l, r, 0)
	case NIRProjector:
		s.composeProjector(l, r)
		s.projPhase = r.IntN(2)
	case RigidReplica:
		s.composeHand(l, handOptions{forearm: false, creaseGain: 0.6, texGain: 0.35}, replicaMaterial(r), r)
	case VeinReplica:
		m := replicaMaterial(r)
		m.paintVeins = uniform(r, 0.25, 0.45)
		s.composeHand(l, handOptions{forearm: false, creaseGain: 0.6, texGain: 0.35}, m, r)
	default:
		s.extend = true
		o := handOptions{forearm: true, veins: true, creaseGain: 1, texGain: 1}
		m := material{albedo: e.albedo, ks: 0.035, shin: 10, wrap: 0.4}
		if cp.dry {
			o.creaseGain, o.texGain = 1.7, 2.2
			m.ks = 0.015
		}
		s.composeHand(l, o, m, r)
	}
	e = s.meter(l)
	// Optics: motion blur within the exposure and defocus, scaled into
	// canvas pixels.
	k := canvasK / cp.pose.scale
	tmp := newLayer()
	l.each(func(x layer) {
		if e.shake > 0.5 {
			// Frame direction to canvas direction: undo rotation, flip v.
			m, _, _ := cp.pose.inverse()
			cx, cy := m[0]*e.shakeX+m[1]*e.shakeY, m[2]*e.shakeX+m[3]*e.shakeY
			n := math.Hypot(cx, cy)
			x.lineBlur(tmp, cx/n, cy/n, e.shake*k)
		}
		x.blur(tmp, e.defocus*k)
	})
	s.amb, s.b1, s.b2 = fixed(l.amb), fixed(l.b1), fixed(l.b2)
	if l.emit != nil {
		s.emit = fixed(l.emit)
	}
	s.bgAmb = int32(fixed1(e.bg))
	s.black = int32(fixed1(e.black))
	// Sensor noise: Gaussian samples, scaled per grey level by shot and
	// read noise at this gain (EMVA 1288's linear model).
	nr := rand.New(rand.NewPCG(c.Identity^streamNoise, c.Seed))
	s.noise = make([]int8, noiseLen+Width)
	for i := range s.noise {
		s.noise[i] = int8(max(-127, min(127, math.Round(nr.NormFloat64()*32))))
	}
	rn := readNoise * e.gain
	for v := range s.sigma {
		s.sigma[v] = int32(math.Round(8 * math.Sqrt(rn*rn+float64(v)*e.gain/ePerDN)))
	}
	return s
}

// meter is the converged auto-exposure loop: it scales exposure and gain so
// that the centre of the palm (or whatever is presented) under both banks
// (and a projector flashing half the time) reaches the AE target, within
// the sensor's limits, and rescales the layers and the ceiling to match. The
// first guess (newCaptureParams) assumed the person's skin.
func (s *Scene) meter(l *layers) photometry {
	e := s.params.exp
	x0, y0 := toCanvas(vec{-0.3, 0.3})
	x1, y1 := toCanvas(vec{0.3, -0.3})
	var sum float64
	n := 0
	for y := int(y0); y < int(y1); y++ {
		for x := int(x0); x < int(x1); x++ {
			i := y*canvasW + x
			v := float64(l.amb[i] + l.b1[i] + l.b2[i])
			if l.emit != nil {
				v += float64(l.emit[i]) / 2
			}
			sum += v
			n++
		}
	}
	if e.condition == Dark {
		// The LEDs give a fiftieth of their light (a failing driver, or
		// the eye-safety limiter throttling them); AE is at its limits.
		e.expMS, e.gain = MaxExposureMS, MaxGain
		f := float32(e.k() / s.params.exp.k())
		l.each(func(x layer) {
			for i := range x {
				x[i] *= f
			}
		})
		l.bgAmb *= float64(f)
		e.bg = l.bgAmb
		for i := range l.b1 {
			l.b1[i] *= 0.02
			l.b2[i] *= 0.02
		}
		s.params.exp = e
		return e
	}
	if sum <= 0 {
		return e
	}
	k0 := e.k()
	k := max(kRef*MinExposureMS, min(kRef*MaxExposureMS*MaxGain, k0*aeTarget/(sum/float64(n))))
	if e.condition == Moving {
		k = max(k, kRef*MaxExposureMS) // swept in faster than AE follows: the empty volume's longest exposure
	}
	e.expMS = max(MinExposureMS, min(MaxExposureMS, k/kRef))
	e.gain = max(1, k/kRef/e.expMS)
	f := float32(e.k() / k0)
	l.each(func(x layer) {
		for i := range x {
			x[i] *= f
		}
	})
	l.bgAmb *= float64(f)
	e.bg = l.bgAmb
	e.shake *= e.expMS / s.params.exp.expMS
	s.params.exp = e
	return e
}

// replicaMaterial draws a cast's material: silicone, gelatine or wax.
func replicaMaterial(r *rand.Rand) material {
	switch r.IntN(3) {
	case 0: // pigmented silicone: scatters less than skin, smooth and glossy
		return material{albedo: uniform(r, 0.5, 0.8), ks: 0.04, shin: 60, texBlur: 2, wrap: 0.2}
	case 1: // gelatine: translucent, wet-looking
		return material{albedo: uniform(r, 0.3, 0.5), ks: 0.05, shin: 150, texBlur: 3, wrap: 0.3}
	default: // wax: strongly scattering, matte
		return material{albedo: uniform(r, 0.7, 0.85), ks: 0.02, shin: 20, texBlur: 4, wrap: 0.5}
	}
}

// fixed converts a layer to grey levels x 256: the sub-level precision
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
	return int(math.Round(distance(s.params.motion.at(s.params.pose, 0), s.params.palmMM)))
}

// Exposure is the scene's auto-exposure state: exposure time in
// milliseconds and analogue gain, and the black level of this capture in
// grey levels (what the sensor's optical-black rows report).
func (s *Scene) Exposure() (expMS, gain, black float64) {
	e := s.params.exp
	return e.expMS, e.gain, e.black
}

// Render draws the frame of strobed pair number frame (30 pairs per
// second) into dst, with both LED banks on (lit) or off. The lit and unlit
// frames of one index show the same instant. dst is normally Width x
// Height at the origin; Render fills the part of dst.Rect on the sensor and
// clears the rest. Render does not allocate. A projector attack flashes on
// exactly the lit frames (a fixed pattern is easy to follow).
func (s *Scene) Render(dst *image.Gray, frame int, lit bool) {
	banks := NoBanks
	if lit {
		banks = AllBanks
	}
	salt := uint64(frame) << 1
	if lit {
		salt |= 1
	}
	s.render(dst, float64(frame)/pairRate, banks, lit, salt, 1)
}

// RenderFrame draws sensor frame number frame, taken at frame x
// FramePeriod, with the given LED banks lit. Frames of different numbers
// show different instants. A projector attack flashes on the frames its
// guessed phase predicts lit (every other frame), whatever banks are lit.
// RenderFrame does not allocate.
func (s *Scene) RenderFrame(dst *image.Gray, frame int, banks Banks) {
	s.RenderBinned(dst, frame, banks, 1)
}

// RenderBinned is RenderFrame for a sensor read out with bin x bin binning:
// a Width/bin x Height/bin frame, bin clamped to 1 to 4 (3 is accepted).
// Each output pixel samples the signal once, bilinearly from the canvas at
// the centre of its bin x bin block, and gets the noise of a bin x bin
// average: shot and read noise, PRNU and DSNU divided by bin, row noise by
// √bin. An evaluation measuring on a 320-pixel-wide copy renders bin² times
// fewer pixels.
func (s *Scene) RenderBinned(dst *image.Gray, frame int, banks Banks, bin int) {
	proj := (frame+s.projPhase)%2 == 0
	s.render(dst, float64(frame)*FramePeriod.Seconds(), banks, proj, uint64(frame)<<3|uint64(banks)|1<<62, max(1, min(bin, 4)))
}

func (s *Scene) render(dst *image.Gray, t float64, banks Banks, proj bool, salt uint64, bin int) {
	r := dst.Rect.Intersect(image.Rect(0, 0, Width/bin, Height/bin))
	if r != dst.Rect {
		for y := dst.Rect.Min.Y; y < dst.Rect.Max.Y; y++ {
			i := dst.PixOffset(dst.Rect.Min.X, y)
			clear(dst.Pix[i : i+dst.Rect.Dx()])
		}
	}
	p := s.params.motion.at(s.params.pose, t)
	m, ox, oy := p.inverse()
	var srcs [4][]uint16
	n := 0
	srcs[n], n = s.amb, n+1
	if banks&BankLeft != 0 {
		srcs[n], n = s.b1, n+1
	}
	if banks&BankRight != 0 {
		srcs[n], n = s.b2, n+1
	}
	if proj && s.emit != nil {
		srcs[n], n = s.emit, n+1
	}
	layers := srcs[:n]
	fpn := sensorPattern()
	const fix = 1 << 16
	fb := float64(bin)
	dux, dvx := int64(m[0]*fix*fb), int64(m[2]*fix*fb)
	half := (fb - 1) / 2 // output pixel centre in sensor pixels
	b32 := int32(bin)
	maxV := int64(canvasH-1)*fix - 1
	hashBase := mix(s.seed ^ salt)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := dst.PixOffset(r.Min.X, y)
		row := dst.Pix[i : i+r.Dx()]
		rh := mix(hashBase ^ uint64(y))
		off := int(rh % noiseLen)
		nz := s.noise[off+r.Min.X : off+r.Max.X]
		// Row noise: one offset per row and frame; plus the black level.
		base := s.black + int32(gauss(mix(rh))*rowNoise*256/math.Sqrt(fb))
		prnu := fpn.prnu[y*Width+r.Min.X : y*Width+r.Max.X]
		dsnu := fpn.dsnu[y*Width+r.Min.X : y*Width+r.Max.X]
		// Start from column 0 so that every dst sees the same fixed-point
		// arithmetic.
		fx, fy := half-p.cx, float64(y)*fb+half-p.cy
		u := int64((m[0]*fx+m[1]*fy+ox)*fix) + int64(r.Min.X)*dux
		v := int64((m[2]*fx+m[3]*fy+oy)*fix) + int64(r.Min.X)*dvx
		for x := range row {
			vv := v
			if s.extend && vv > maxV {
				vv = maxV
			}
			ui, vi := int(u>>16), int(vv>>16)
			val := s.bgAmb
			if uint(ui) < canvasW-1 && uint(vi) < canvasH-1 {
				i := vi*canvasW + ui
				fu, fv := int32(u>>8)&0xff, int32(vv>>8)&0xff
				val = 0
				for _, src := range layers {
					p00, p01 := int32(src[i]), int32(src[i+1])
					p10, p11 := int32(src[i+canvasW]), int32(src[i+canvasW+1])
					top := (p00<<8 + (p01-p00)*fu) >> 8
					bot := (p10<<8 + (p11-p10)*fu) >> 8
					val += (top<<8 + (bot-top)*fv) >> 8
				}
			}
			val += val * int32(prnu[x]) / (1000 * b32)
			lvl := min(val>>8, 255)
			out := (val + base + int32(dsnu[x])*8/b32 + int32(nz[x])*s.sigma[lvl]/b32 + 128) >> 8
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
