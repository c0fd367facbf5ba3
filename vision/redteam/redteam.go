package redteam

import (
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"

	"github.com/palmd/palmd/vision/eval"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/synth"
)

// W and H are the frame size: a 2 x 2 binned 1280 x 800 sensor.
const W, H = 640, 400

// focal is the focal length in pixels of a W-wide frame (the kiosk's lens).
const focal = 418.0

// Pairs is how many lit/unlit pairs a capture offers the gate.
const Pairs = 6

// SeedBase is where the red-team identities start: far from vision/eval's
// tuning and held-out ranges.
const SeedBase = 7_000_000

var labels = [...]synth.Presentation{synth.Genuine, synth.PrintedPhoto, synth.ScreenReplay, synth.RigidReplica,
	synth.VeinPrint, synth.VeinPrintMounted, synth.GlossyPhoto, synth.NIRProjector, synth.VeinReplica}

var hard = [...]synth.Condition{synth.Sunlit, synth.DarkSkin, synth.FairSkin, synth.DrySkin, synth.ChildClose, synth.Tilted, synth.Sleeve}

// Set is a red-team set: per identity and take one capture of every
// presentation in good conditions and one genuine capture in a hard
// condition.
type Set struct {
	Identities, Captures int
	SeedBase             uint64 // 0: SeedBase
}

const perTake = len(labels) + 1

// Len is the number of captures in s.
func (s Set) Len() int { return s.Identities * s.Captures * perTake }

// Describe returns capture i's label, condition, name, identity name and
// seed.
func (s Set) Describe(i int) (synth.Presentation, synth.Condition, string, string, uint64) {
	base := s.SeedBase
	if base == 0 {
		base = SeedBase
	}
	id, take, k := i/(s.Captures*perTake), i/perTake%s.Captures, i%perTake
	label, cond := synth.Genuine, synth.Good
	if k < len(labels) {
		label = labels[k]
	} else {
		cond = hard[(id+take)%len(hard)]
	}
	n := base + uint64(id)
	identity := fmt.Sprintf("rt-%d", n)
	name := fmt.Sprintf("%s-%d-%s-%s", identity, take, label, cond)
	h := fnv.New64a()
	h.Write([]byte(name))
	return label, cond, name, identity, h.Sum64()
}

// Capture returns capture i, rendering its frames into frames on demand.
func (s Set) Capture(i int, frames *eval.Frames) eval.Capture {
	label, cond, name, identity, seed := s.Describe(i)
	h := fnv.New64a()
	h.Write([]byte(identity))
	sc := newScene(h.Sum64(), seed, label, cond)
	size := image.Pt(W, H)
	return eval.Capture{
		Name: name, Identity: identity, Label: label, Condition: cond, Pairs: Pairs,
		DistanceMM: sc.distReading, Black: sc.black, Seed: seed,
		Frame: func(k int, lit bool) (*image.Gray, error) {
			if k < 0 || k >= Pairs {
				return nil, fmt.Errorf("redteam: capture %q has no pair %d", name, k)
			}
			j, banks := 2*k, liveness.BanksBoth
			if !lit {
				j, banks = j+1, liveness.BanksOff
			}
			dst := frames.Get(j, size)
			sc.render(dst, j, banks)
			return dst, nil
		},
		Burst: func(i, frame int, banks uint8) (*image.Gray, error) {
			if i < 0 || i >= liveness.BurstFrames {
				return nil, fmt.Errorf("redteam: capture %q has no burst frame %d", name, i)
			}
			dst := frames.Get(2*Pairs+i, size)
			sc.render(dst, frame, banks)
			return dst, nil
		},
	}
}

// scene is one capture shaded once into frame-sized layers.
type scene struct {
	amb, left, right, emit []float32 // grey levels above black
	black, read, gain      float64
	ePerDN                 float64
	projMode, projPhase    int // 0 none, 1 alternating guess, 2 always on
	tremor                 [2][3]float64
	drift                  [2]float64
	noiseSeed              uint64
	distReading            int
}

func uni(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// person is what belongs to the identity.
type person struct {
	palmMM, fingerL, spread float64
	albedo, veinAbs         float64
	veins                   [][4]float64 // segments in hand mm: x0 y0 x1 y1
	veinW                   []float64
	creases                 [3][4]float64 // arc: cx cy radius angle0 (span fixed)
	tex                     uint64
}

func newPerson(id uint64) person {
	r := rand.New(rand.NewPCG(id, 11))
	p := person{palmMM: uni(r, 70, 95), fingerL: uni(r, 0.8, 1.0), spread: uni(r, 0.05, 0.2),
		albedo: uni(r, 0.35, 0.65), veinAbs: uni(r, 0.12, 0.4), tex: r.Uint64()}
	// Veins: branching random walks up from the wrist.
	type walker struct{ x, y, ang, w float64 }
	ws := []walker{{-0.2, -0.75, 1.4, 3}, {0.15, -0.75, 1.7, 3}}
	for len(ws) > 0 && len(p.veins) < 90 {
		w := ws[0]
		ws = ws[1:]
		for step := 0; step < 14 && w.y < 0.6; step++ {
			nx, ny := w.x+0.06*math.Cos(w.ang), w.y+0.06*math.Sin(w.ang)
			p.veins = append(p.veins, [4]float64{w.x, w.y, nx, ny})
			p.veinW = append(p.veinW, w.w)
			w.x, w.y = nx, ny
			w.ang += uni(r, -0.35, 0.35)
			if r.Float64() < 0.18 && w.w > 1.2 {
				ws = append(ws, walker{w.x, w.y, w.ang + uni(r, -0.9, 0.9), w.w * 0.7})
			}
		}
	}
	for i := range p.creases {
		p.creases[i] = [4]float64{uni(r, -0.6, 0.6), uni(r, -0.6, 0.4), uni(r, 0.5, 1.1), uni(r, 0, 2*math.Pi)}
	}
	return p
}

// handAt evaluates the hand at hand coordinates (mm, palm centre at the
// origin, fingers up): coverage, height towards the camera (mm), reflectance
// multiplier and vein density.
func (p *person) handAt(x, y, palmMM, spread float64, veinMap func(x, y float64) float64) (cover, height, refl, vein float64) {
	a, b := palmMM/2, palmMM*0.55
	// Super-ellipse palm.
	u, v := x/a, y/b
	d := math.Pow(math.Pow(math.Abs(u), 4)+math.Pow(math.Abs(v), 4), 0.25)
	palm := (d - 1) * a // about mm outside
	best := palm
	height = 0
	if palm < 0 {
		rr := 1 - d*d
		height = 10*rr + 6*math.Exp(-((x-0.25*palmMM)*(x-0.25*palmMM)+(y+0.25*palmMM)*(y+0.25*palmMM))/(0.06*palmMM*palmMM))
	}
	capsule := func(x0, y0, ang, length, width float64) {
		dx, dy := math.Sin(ang), math.Cos(ang)
		t := max(0, min(length, (x-x0)*dx+(y-y0)*dy))
		px, py := x0+dx*t, y0+dy*t
		dist := math.Hypot(x-px, y-py) - width/2
		if dist < best {
			best = dist
		}
		if dist < 0 && palm >= 0 {
			rf := width / 2
			height = max(height, math.Sqrt(max(0, rf*rf-(dist+rf)*(dist+rf))))
		}
	}
	fl := p.fingerL * palmMM
	for i := range 4 {
		fx := (-0.36 + 0.24*float64(i)) * palmMM
		capsule(fx, b*0.85, (float64(i)-1.5)*spread, fl*(0.8+0.07*float64(i%3)), 0.2*palmMM)
	}
	capsule(0.42*palmMM, -0.2*palmMM, 0.9, 0.8*palmMM, 0.24*palmMM) // thumb
	capsule(0, -b*0.7, math.Pi, 3*palmMM, 0.78*palmMM)              // wrist, forearm
	cover = max(0, min(1, 0.5-best*2))
	if cover == 0 {
		return 0, 0, 0, 0
	}
	// Texture speckle and crease arcs.
	h := p.tex ^ uint64(int64(x*3))*0x9e37 ^ uint64(int64(y*3))*0x85eb
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	refl = 1 + 0.04*(float64(h>>40)/float64(1<<24)-0.5)
	for _, c := range p.creases {
		cx, cy, rad := c[0]*a, c[1]*b, c[2]*palmMM
		ang := math.Atan2(y-cy, x-cx)
		if da := math.Mod(ang-c[3]+4*math.Pi, 2*math.Pi); da < 0.9 {
			dist := math.Abs(math.Hypot(x-cx, y-cy) - rad)
			refl *= 1 - 0.25*math.Exp(-dist*dist/0.5)
		}
	}
	return cover, height, refl, veinMap(x, y)
}

// material is how the presented surface answers light.
type material struct {
	albedo, ks, shin float64
}

func newScene(id, seed uint64, label synth.Presentation, cond synth.Condition) *scene {
	r := rand.New(rand.NewPCG(seed, id))
	p := newPerson(id)
	s := &scene{
		black: uni(r, 10, 22), read: uni(r, 1, 3), ePerDN: uni(r, 20, 45),
		noiseSeed: r.Uint64(),
	}
	palmMM := p.palmMM
	d := uni(r, 110, 210)
	tilt, tiltDir := uni(r, 0, 0.25), uni(r, 0, 2*math.Pi)
	rot := uni(r, -0.45, 0.45)
	cx, cy := W/2+uni(r, -30, 30), H/2+uni(r, -20, 30)
	amb, sun := uni(r, 0, 0.15), 0.0
	sunDir := uni(r, 0, 2*math.Pi)
	bg := uni(r, 0, 6)
	albedo := p.albedo
	sleeve := false
	spread := p.spread
	switch cond {
	case synth.Sunlit:
		sun, bg = uni(r, 0.5, 2.5), uni(r, 30, 150)
	case synth.DarkSkin:
		albedo, d = uni(r, 0.3, 0.38), uni(r, 180, 240)
	case synth.FairSkin:
		albedo = uni(r, 0.6, 0.7)
	case synth.ChildClose:
		palmMM, d = uni(r, 45, 60), uni(r, 75, 100)
	case synth.Tilted:
		tilt = uni(r, 0.3, 0.5)
	case synth.Sleeve:
		sleeve = true
	}
	// Keep the palm in the frame: shrink the distance range for big palms.
	if pw := focal * palmMM / d; pw > 0.5*W {
		d = focal * palmMM / (0.5 * W)
	}
	s.distReading = int(d + uni(r, -5, 5))
	held := label == synth.Genuine || label == synth.PrintedPhoto || label == synth.VeinPrint || label == synth.GlossyPhoto || label == synth.VeinReplica || label == synth.ScreenReplay
	if held {
		for k := range 2 {
			s.tremor[k] = [3]float64{uni(r, 6, 12), uni(r, 0.1, 0.6), uni(r, 0, 2*math.Pi)}
			s.drift[k] = uni(r, -3, 3)
		}
	} else {
		for k := range 2 {
			s.tremor[k] = [3]float64{uni(r, 20, 40), 0.02, uni(r, 0, 2*math.Pi)}
		}
	}
	// Veins, stamped in hand mm on a grid, then blurred by scattering.
	const vg = 1.0 // grid mm
	vn := int(3*palmMM) + 1
	veinGrid := make([]float64, vn*vn)
	vOrigin := -1.5 * palmMM
	painted := label == synth.VeinReplica
	for i, sg := range p.veins {
		x0, y0, x1, y1 := sg[0]*palmMM, sg[1]*palmMM, sg[2]*palmMM, sg[3]*palmMM
		w := p.veinW[i] * palmMM / 85
		for t := 0.0; t <= 1; t += 0.1 {
			px, py := x0+(x1-x0)*t, y0+(y1-y0)*t
			for gy := int((py - w - vOrigin) / vg); gy <= int((py+w-vOrigin)/vg); gy++ {
				for gx := int((px - w - vOrigin) / vg); gx <= int((px+w-vOrigin)/vg); gx++ {
					if gx >= 0 && gy >= 0 && gx < vn && gy < vn && math.Hypot(float64(gx)*vg+vOrigin-px, float64(gy)*vg+vOrigin-py) < w/2 {
						veinGrid[gy*vn+gx] = 1
					}
				}
			}
		}
	}
	if !painted {
		blurGrid(veinGrid, vn, int(uni(r, 1, 3)))
	}
	veinMap := func(x, y float64) float64 {
		gx, gy := int((x-vOrigin)/vg), int((y-vOrigin)/vg)
		if gx < 0 || gy < 0 || gx >= vn || gy >= vn {
			return 0
		}
		return veinGrid[gy*vn+gx]
	}

	// What is presented.
	mat := material{albedo: albedo, ks: uni(r, 0.02, 0.06), shin: uni(r, 5, 15)}
	veinAbs := p.veinAbs
	switch label {
	case synth.RigidReplica, synth.VeinReplica:
		mat = material{albedo: uni(r, 0.4, 0.9), ks: uni(r, 0.01, 0.08), shin: uni(r, 20, 200)}
		veinAbs = 0
		if painted {
			veinAbs = uni(r, 0.2, 0.5)
		}
	}
	if cond == synth.DrySkin {
		mat.ks = 0.01
	}
	paper := uni(r, 0.7, 0.92)
	resid := uni(r, 0, 0.25)
	bend := 0.0
	if label == synth.PrintedPhoto || label == synth.VeinPrint || label == synth.GlossyPhoto {
		bend = uni(r, 0, 10)
	}
	inkBG := 0.05
	if r.IntN(2) == 0 {
		inkBG = paper
	}
	screenBlack, leak := uni(r, 0, 0.08), uni(r, 0, 8)
	projPower := uni(r, 0.6, 1.3)
	switch label {
	case synth.NIRProjector:
		s.projMode, s.projPhase = 1+r.IntN(2), r.IntN(2)
	}

	// LEDs: the kiosk's two banks 35 mm left and right of the lens (its
	// hardware specification), each modelled as four LEDs on a 10 mm
	// square rather than one point.
	type led struct{ x, y float64 }
	var leds [8]led
	for k := range leds {
		side := 35.0
		if k < 4 {
			side = -35
		}
		leds[k] = led{side + 5*float64(k%2*2-1), 5 * float64(k/2%2*2-1)}
	}
	norm := 0.0
	for _, l := range leds {
		r2 := 150*150 + l.x*l.x + l.y*l.y
		c := 150 / math.Sqrt(r2)
		norm += c * c / r2
	}
	norm = 1 / norm

	n := W * H
	s.amb, s.left, s.right = make([]float32, n), make([]float32, n), make([]float32, n)
	if s.projMode != 0 {
		s.emit = make([]float32, n)
	}
	heights := make([]float64, n)
	covers := make([]float64, n)
	albs := make([]float64, n)
	emits := make([]float64, n)
	cr, sr := math.Cos(rot), math.Sin(rot)
	tdx, tdy := math.Cos(tiltDir), math.Sin(tiltDir)
	for py := range H {
		for px := range W {
			i := py*W + px
			X, Y := (float64(px)-cx)*d/focal, (float64(py)-cy)*d/focal
			hx, hy := cr*X+sr*Y, sr*X-cr*Y // hand axes, fingers up
			cover, height, refl, vein := p.handAt(hx, hy, palmMM, spread, veinMap)
			var a float64
			switch label {
			case synth.Genuine, synth.RigidReplica, synth.VeinReplica:
				a = mat.albedo * refl * (1 - veinAbs*vein)
				if sleeve && hy < -0.75*palmMM {
					a = uni(r, 0.5, 0.6)
					height += 5
				}
			default:
				// A sheet 1.6 x 2.6 palm widths: the palm printed, shown
				// or projected on it.
				in := math.Abs(hx) < 0.8*palmMM && hy > -1.4*palmMM && hy < 1.2*palmMM
				if !in {
					cover, height = 0, 0
					break
				}
				height = -bend * (hx / palmMM) * (hx / palmMM)
				nir := cover * refl * (1 - p.veinAbs*vein) * (0.6 + 0.4*max(0, 1-math.Abs(hx)/(0.6*palmMM)))
				switch label {
				case synth.PrintedPhoto, synth.GlossyPhoto:
					vis := cover*0.6*refl + (1-cover)*0.25
					a = paper * (1 - resid*(1-vis))
				case synth.VeinPrint, synth.VeinPrintMounted:
					a = inkBG*(1-cover) + p.albedo*nir
				case synth.ScreenReplay:
					a = screenBlack
				case synth.NIRProjector:
					a = paper
					emits[i] = projPower * nir
				}
				cover = 1
			}
			covers[i], heights[i], albs[i] = cover, height, a
		}
	}
	switch label {
	case synth.GlossyPhoto:
		mat.ks, mat.shin = uni(r, 0.03, 0.06), uni(r, 100, 1000)
	case synth.ScreenReplay:
		mat.ks, mat.shin = 0.04, 2000
	case synth.PrintedPhoto, synth.VeinPrint, synth.VeinPrintMounted, synth.NIRProjector:
		mat.ks = 0
	}
	mmPerPx := d / focal
	var meter float64
	var metered int
	for py := 1; py < H-1; py++ {
		for px := 1; px < W-1; px++ {
			i := py*W + px
			if covers[i] == 0 {
				s.amb[i] = float32(bg)
				continue
			}
			// Surface normal from the height field (towards the camera is -z).
			gx := (heights[i+1] - heights[i-1]) / (2 * mmPerPx)
			gy := (heights[i+W] - heights[i-W]) / (2 * mmPerPx)
			gx, gy = -gx, -gy // z = d - height
			gx += math.Tan(tilt) * tdx
			gy += math.Tan(tilt) * tdy
			nl := 1 / math.Sqrt(gx*gx+gy*gy+1)
			nx, ny, nz := gx*nl, gy*nl, -nl
			z := d - heights[i] + math.Tan(tilt)*((float64(px)-cx)*tdx+(float64(py)-cy)*tdy)*mmPerPx
			X, Y := (float64(px)-W/2)*z/focal, (float64(py)-H/2)*z/focal
			vl := 1 / math.Sqrt(X*X+Y*Y+z*z)
			var bank [2]float64
			for _, l := range leds {
				lx, ly, lz := l.x-X, l.y-Y, -z
				r2 := lx*lx + ly*ly + lz*lz
				rl := math.Sqrt(r2)
				lx, ly, lz = lx/rl, ly/rl, lz/rl
				cosI := nx*lx + ny*ly + nz*lz
				if cosI <= 0 {
					continue
				}
				e := norm * (z / rl) / r2 * cosI
				v := albs[i] * e
				if mat.ks > 0 {
					hx, hy, hz := lx-X*vl, ly-Y*vl, lz-z*vl
					hn := math.Sqrt(hx*hx + hy*hy + hz*hz)
					if nh := (nx*hx + ny*hy + nz*hz) / hn; nh > 0 {
						v += mat.ks * e * (mat.shin + 8) / 8 * math.Pow(nh, mat.shin)
					}
				}
				if l.x < 0 {
					bank[0] += v
				} else {
					bank[1] += v
				}
			}
			a := albs[i] * (amb*(0.5+0.5*-nz) + sun*max(0, nx*math.Cos(sunDir)+ny*math.Sin(sunDir)+0.3))
			c := covers[i]
			s.left[i], s.right[i] = float32(c*bank[0]), float32(c*bank[1])
			s.amb[i] = float32(c * a)
			if label == synth.ScreenReplay {
				s.amb[i] += float32(leak / 200) // scaled with the exposure below
			}
			if s.emit != nil {
				s.emit[i] = float32(emits[i] * 0.5)
			}
			if math.Abs(float64(px)-cx) < 40 && math.Abs(float64(py)-cy) < 40 {
				meter += float64(s.amb[i] + s.left[i] + s.right[i])
				if s.emit != nil {
					meter += float64(s.emit[i]) / 2
				}
				metered++
			}
		}
	}
	// Auto-exposure: scale everything to the target, within the gain cap.
	target := uni(r, 120, 190)
	kRef := target / 0.5
	k := kRef * 12
	if metered > 0 && meter > 0 {
		k = min(k, target/(meter/float64(metered)))
	}
	s.gain = max(1, k/kRef)
	for _, l := range [][]float32{s.amb, s.left, s.right, s.emit} {
		for i := range l {
			l[i] *= float32(k)
		}
	}
	// The ceiling is not lit by the LEDs and sits at its own level.
	for i := range s.amb {
		if covers[i] == 0 {
			s.amb[i] = float32(bg)
		} else {
			s.amb[i] += float32((1 - covers[i]) * bg)
		}
	}
	return s
}

// blurGrid box-blurs g (n x n) with radius rad, twice.
func blurGrid(g []float64, n, rad int) {
	tmp := make([]float64, len(g))
	for range 2 {
		for y := range n {
			for x := range n {
				var s float64
				c := 0
				for k := -rad; k <= rad; k++ {
					if xx := x + k; xx >= 0 && xx < n {
						s += g[y*n+xx]
						c++
					}
				}
				tmp[y*n+x] = s / float64(c)
			}
		}
		for y := range n {
			for x := range n {
				var s float64
				c := 0
				for k := -rad; k <= rad; k++ {
					if yy := y + k; yy >= 0 && yy < n {
						s += tmp[yy*n+x]
						c++
					}
				}
				g[y*n+x] = s / float64(c)
			}
		}
	}
}

// render draws frame number frame (60 fps) lit with banks into dst.
func (s *scene) render(dst *image.Gray, frame int, banks uint8) {
	t := float64(frame) / 60
	var off [2]float64
	for k := range 2 {
		tr := s.tremor[k]
		off[k] = tr[1]*math.Sin(2*math.Pi*tr[0]*t+tr[2])*focal/150 + s.drift[k]*t*focal/150
	}
	proj := s.projMode == 2 || (s.projMode == 1 && (frame+s.projPhase)%2 == 0)
	ix, iy := int(math.Floor(off[0])), int(math.Floor(off[1]))
	fx, fy := float32(off[0]-float64(ix)), float32(off[1]-float64(iy))
	rng := rand.New(rand.NewPCG(s.noiseSeed, uint64(frame)<<3|uint64(banks)))
	for y := range H {
		sy := min(max(y-iy, 1), H-2)
		for x := range W {
			sx := min(max(x-ix, 1), W-2)
			i := sy*W + sx
			sample := func(l []float32) float32 {
				a := l[i] + (l[i-1]-l[i])*fx
				b := l[i-W] + (l[i-W-1]-l[i-W])*fx
				return a + (b-a)*fy
			}
			v := sample(s.amb)
			if banks&liveness.BankLeft != 0 {
				v += sample(s.left)
			}
			if banks&liveness.BankRight != 0 {
				v += sample(s.right)
			}
			if proj && s.emit != nil {
				v += sample(s.emit)
			}
			sig := math.Sqrt(s.read*s.read*s.gain*s.gain + float64(max(v, 0))*s.gain/s.ePerDN)
			out := float64(v) + s.black + rng.NormFloat64()*sig
			dst.Pix[y*dst.Stride+x] = uint8(max(0, min(255, math.Round(out))))
		}
	}
}
