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
		s.composeHand(litF, unlitF, handOptions{forearm: false, creaseGain: 0.6, texGain: 0.35, sheen: 0.12})
	default:
		s.extend = true
		s.composeHand(litF, unlitF, handOptions{forearm: true, veins: true, creaseGain: 1, texGain: 1, sheen: 0.03})
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
