package synth

import (
	"math"
	"math/rand/v2"
)

// pose places canonical hand space in the frame.
type pose struct {
	cx, cy  float64 // frame position of the palm centre
	scale   float64 // frame pixels per palm width
	rot     float64 // in-plane rotation, radians
	tilt    float64 // out-of-plane tilt, radians
	tiltDir float64 // axis the tilt foreshortens along, radians
}

// inverse returns the affine map from frame pixel (x, y) to canvas pixel:
// canvas = m·(x-cx, y-cy) + (ox, oy).
func (p pose) inverse() (m [4]float64, ox, oy float64) {
	f := p.forward()
	det := f.a*f.d - f.b*f.c
	// (u, v) = F⁻¹·(x-cx, y-cy); canvas = (K·(u-u0), K·(v1-v)).
	k := canvasK / det
	m = [4]float64{k * f.d, -k * f.b, k * f.c, -k * f.a}
	return m, -canvasU0 * canvasK, canvasV1 * canvasK
}

// affine is x = a·u + b·v + tx, y = c·u + d·v + ty.
type affine struct{ a, b, c, d, tx, ty float64 }

func (m affine) apply(q vec) (x, y float64) {
	return m.a*q.u + m.b*q.v + m.tx, m.c*q.u + m.d*q.v + m.ty
}

// forward is the map from canonical space to the frame.
func (p pose) forward() affine {
	// scale · R(rot) · T · diag(1, -1), with T = I + k·d·dᵀ foreshortening
	// along the tilt direction d.
	cd, sd := math.Cos(p.tiltDir), math.Sin(p.tiltDir)
	k := math.Cos(p.tilt) - 1
	t := [4]float64{1 + k*cd*cd, k * cd * sd, k * cd * sd, 1 + k*sd*sd}
	cs, sn := math.Cos(p.rot), math.Sin(p.rot)
	rt := [4]float64{cs*t[0] - sn*t[2], cs*t[1] - sn*t[3], sn*t[0] + cs*t[2], sn*t[1] + cs*t[3]}
	s := p.scale
	return affine{s * rt[0], -s * rt[1], s * rt[2], -s * rt[3], p.cx, p.cy}
}

// motion is how the pose changes over frames: physiological tremor and drift
// of a hovering hand, or a deliberate swing for Condition Moving.
type motion struct {
	freq  [3]float64 // Hz: drift, two tremor bands
	ampXY [3]float64 // pixels
	phase [3][3]float64
	rotA  float64 // radians
	scaA  float64 // relative
	swing vec     // pixels of swing amplitude (Moving)
	swHz  float64
}

func newMotion(r *rand.Rand, c Condition, still bool) motion {
	var m motion
	if still {
		return m
	}
	m.freq = [3]float64{uniform(r, 0.2, 0.6), uniform(r, 4, 6.5), uniform(r, 8, 11)}
	m.ampXY = [3]float64{uniform(r, 1.5, 3.5), uniform(r, 0.4, 0.9), uniform(r, 0.4, 1.0)}
	for i := range m.phase {
		for j := range m.phase[i] {
			m.phase[i][j] = uniform(r, 0, 2*math.Pi)
		}
	}
	m.rotA = uniform(r, 0.001, 0.004)
	m.scaA = uniform(r, 0.002, 0.005)
	if c == Moving {
		ang := uniform(r, -0.5, 0.5) + math.Pi*float64(r.IntN(2))
		a := uniform(r, 150, 250)
		m.swing = vec{a * math.Cos(ang), a * math.Sin(ang)}
		m.swHz = uniform(r, 1.8, 3)
	}
	return m
}

// at returns the pose t seconds after frame 0.
func (m motion) at(p pose, t float64) pose {
	var dx, dy, dr, ds float64
	for i, hz := range m.freq {
		w := 2 * math.Pi * hz * t
		dx += m.ampXY[i] * math.Sin(w+m.phase[i][0])
		dy += m.ampXY[i] * math.Sin(w+m.phase[i][1])
		dr += math.Sin(w + m.phase[i][2])
		ds += math.Cos(w + m.phase[i][2])
	}
	sw := math.Sin(2 * math.Pi * m.swHz * t)
	p.cx += dx + m.swing.u*sw
	p.cy += dy + m.swing.v*sw
	p.rot += m.rotA * dr / 3
	p.scale *= 1 + m.scaA*ds/3
	return p
}

// speed is the largest image speed of the motion, pixels per second: the
// swing at mid-swing plus the tremor bands at their peak.
func (m motion) speed() (v, dirX, dirY float64) {
	for i, hz := range m.freq {
		v += m.ampXY[i] * 2 * math.Pi * hz
	}
	dirX, dirY = 1, 0
	if sw := m.swing.len(); sw > 0 {
		v += sw * 2 * math.Pi * m.swHz
		dirX, dirY = m.swing.u/sw, m.swing.v/sw
	}
	return v, dirX, dirY
}

// photometry holds the light, exposure and sensor of one capture.
type photometry struct {
	albedo    float64 // NIR albedo of what is presented (skin, paper, silicone)
	amb       float64 // room irradiance on the palm, relative to both banks at 150 mm
	ambDir    vec     // ambient gradient across the hand, per palm width
	ambSide   float64 // low sun from the side, relative irradiance
	sunDir    [2]float64
	bg        float64 // background (ceiling) seen past the hand, grey levels above black
	expMS     float64 // exposure, ms
	gain      float64
	black     float64 // black level of this capture, grey levels
	defocus   float64 // Gaussian sigma, frame pixels
	shake     float64 // motion blur length within the exposure, frame pixels
	shakeX    float64 // its direction in the frame
	shakeY    float64
	condition Condition
}

// k is grey levels per unit albedo x irradiance at this exposure.
func (e photometry) k() float64 { return kRef * e.expMS * e.gain }

// captureParams draws everything about one capture from its seed.
type captureParams struct {
	pose   pose
	hand   handPose
	motion motion
	exp    photometry
	palmMM float64 // palm width of this capture (a child's hand is smaller)
	dry    bool    // dry, wrinkled skin
	sleeve bool    // a sleeve over the wrist, or a bracelet
}

func newCaptureParams(c Capture, a *anatomy) captureParams {
	r := rand.New(rand.NewPCG(c.Identity^streamCapture, c.Seed))
	var cp captureParams
	cp.hand = newHandPose(r, a)
	p := pose{
		cx:      Width/2 + uniform(r, -0.05, 0.05)*Width,
		cy:      Height/2 + uniform(r, -0.05, 0.05)*Height,
		scale:   uniform(r, 0.30, 0.44) * Width,
		rot:     uniform(r, -20, 20) * math.Pi / 180,
		tilt:    uniform(r, 0, 12) * math.Pi / 180,
		tiltDir: uniform(r, 0, 2*math.Pi),
	}
	// Indoor light barely reaches 850 nm through the band-pass filter
	// (white LEDs and fluorescents emit almost nothing there); a lamp or a
	// window adds some.
	e := photometry{
		albedo:  a.albedo,
		amb:     math.Exp(uniform(r, math.Log(0.004), math.Log(0.08))),
		bg:      uniform(r, 0.5, 4),
		black:   BlackLevel + uniform(r, -1.5, 1.5),
		defocus: 0,
	}
	palmMM := a.palmMM
	scaleLo, scaleHi := 0.0, 0.0 // palm width as a fraction of the frame, when set
	switch c.Condition {
	case TooFar:
		p.scale = uniform(r, 0.12, 0.18) * Width
	case TooClose:
		p.scale = uniform(r, 0.62, 0.85) * Width
	case OffCentre:
		side := float64(1 - 2*r.IntN(2))
		p.scale = uniform(r, 0.30, 0.36) * Width
		p.cx = Width/2 + side*uniform(r, 0.19, 0.25)*Width
		p.rot = uniform(r, -10, 10) * math.Pi / 180
	case PartlyOut:
		p.scale = uniform(r, 0.32, 0.40) * Width
		out := uniform(r, 0.25, 0.45) // fraction of the palm beyond the edge
		p = pushOut(p, a, r.IntN(3), out)
	case Blurred:
		e.defocus = uniform(r, 6, 11)
	case Dark:
		// A hand at a Good distance in a dark room, with LEDs that give a
		// fiftieth of their light: AE at its limits cannot lift it.
		e.albedo *= uniform(r, 0.7, 1) // and the LEDs fail: see Scene.meter
		e.amb = 0.002
	case Bright:
		// Direct sun on the scanner: more light than the LEDs give, on
		// palm and background alike, at the shortest exposure.
		e.amb = uniform(r, 150, 300)
		e.bg = 400
	case Sunlit:
		// Sun through a window, low, from one side.
		e.amb = uniform(r, 0.1, 0.4)
		e.ambSide = uniform(r, 0.4, 1.4)
		ang := uniform(r, 0, 2*math.Pi)
		e.sunDir = [2]float64{math.Cos(ang), math.Sin(ang)}
		e.bg = uniform(r, 40, 120)
	case DarkSkin:
		e.albedo = uniform(r, 0.34, 0.42)
		scaleLo, scaleHi = 0.26, 0.32 // 155 to 236 mm away
	case FairSkin:
		e.albedo = uniform(r, 0.6, 0.68)
	case DrySkin:
		cp.dry = true
	case ChildClose:
		palmMM = uniform(r, 50, 62)
		scaleLo, scaleHi = 0.4, 0.5
	case Tilted:
		p.tilt = uniform(r, 15, 25) * math.Pi / 180
	case Sleeve:
		cp.sleeve = true
	}
	if scaleLo > 0 {
		p.scale = uniform(r, scaleLo, scaleHi) * Width
	}
	if c.Condition == Good || c.Condition.BonaFide() || c.Condition == Blurred || c.Condition == Dark || c.Condition == Bright || c.Condition == Moving {
		p = fitPalm(p, a, 0.03)
	}
	still := c.Presentation == RigidReplica || c.Presentation == VeinPrintMounted || c.Presentation == NIRProjector
	cp.motion = newMotion(r, c.Condition, still)
	d := focalPx * palmMM / p.scale
	e.expMS, e.gain = autoExposure(e.albedo, d, e.amb+0.3*e.ambSide)
	if c.Condition == Moving {
		// A hand swept in faster than auto-exposure follows: its frames keep
		// the empty volume's longest exposure, over-exposed.
		e.expMS = MaxExposureMS
	}
	// Depth of field of the fixed-focus lens: blur circle diameter
	// (f/N)·f/(s-f)·|d-s|/d over the pixel pitch, at f/2.
	const fNum = 2.0
	coc := FocalLengthMM / fNum * FocalLengthMM / (FocusMM - FocalLengthMM) * math.Abs(d-FocusMM) / d / (PixelPitchUM / 1000)
	e.defocus = max(e.defocus, 0.4+coc/2.5)
	v, dx, dy := cp.motion.speed()
	e.shake, e.shakeX, e.shakeY = v*e.expMS/1000, dx, dy
	ang := uniform(r, 0, 2*math.Pi)
	e.ambDir = vec{math.Cos(ang), math.Sin(ang)}.scale(uniform(r, 0.05, 0.3))
	e.condition = c.Condition
	cp.pose = p
	cp.exp = e
	cp.palmMM = palmMM
	return cp
}

// distance is the camera-to-palm distance in millimetres.
func distance(p pose, palmMM float64) float64 { return focalPx * palmMM / p.scale }

// fitPalm shrinks and moves the pose until the palm (not the fingers) is
// inside the frame with the given margin, as a good capture must be.
func fitPalm(p pose, a *anatomy, margin float64) pose {
	for range 40 {
		x0, y0, x1, y1 := palmBox(p, a)
		mx, my := margin*Width, margin*Height
		if x0 >= mx && y0 >= my && x1 <= Width-mx && y1 <= Height-my {
			return p
		}
		p.cx += (Width/2 - (x0+x1)/2) * 0.5
		p.cy += (Height/2 - (y0+y1)/2) * 0.5
		if x1-x0 > Width-2*mx || y1-y0 > Height-2*my {
			p.scale *= 0.97
		}
	}
	return p
}

// inFrame is the fraction of the palm's bounding box inside the frame.
func inFrame(p pose, a *anatomy) float64 {
	x0, y0, x1, y1 := palmBox(p, a)
	ix := max(0, min(x1, Width)-max(x0, 0))
	iy := max(0, min(y1, Height)-max(y0, 0))
	return ix * iy / ((x1 - x0) * (y1 - y0))
}

// pushOut moves the palm towards the left (0), right (1) or bottom (2) edge
// until the given fraction of it is outside the frame.
func pushOut(p pose, a *anatomy, edge int, out float64) pose {
	lo, hi := 0.0, float64(Width) // how far to move
	for range 30 {
		mid := (lo + hi) / 2
		q := p
		switch edge {
		case 0:
			q.cx -= mid
		case 1:
			q.cx += mid
		default:
			q.cy += mid
		}
		if 1-inFrame(q, a) < out {
			lo = mid
		} else {
			hi = mid
		}
	}
	switch edge {
	case 0:
		p.cx -= lo
	case 1:
		p.cx += lo
	default:
		p.cy += lo
	}
	return p
}

// palmBox is the frame bounding box of the palm outline.
func palmBox(p pose, a *anatomy) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	h := a.palmLen / 2
	f := p.forward()
	for _, q := range [...]vec{{-0.5, h - 0.06}, {-0.44, h}, {0.44, h}, {0.5, h - 0.06}, {0.5, -h + 0.06}, {0.44, -h}, {-0.44, -h}, {-0.5, -h + 0.06}} {
		x, y := f.apply(q)
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	return x0, y0, x1, y1
}
