package synth

import (
	"math"
	"sync"
	"time"
)

// The simulated sensor and lens; see the package documentation for the
// sources of every figure.
const (
	// FramePeriod is the sensor's frame period: 60 frames per second at
	// 1280x800 (the OV9281-class sensor runs up to 120; 60 leaves time for
	// the LED banks to switch between frames). Scene.RenderFrame renders
	// frame n at n x FramePeriod.
	FramePeriod = time.Second / 60
	// PixelPitchUM is the sensor's pixel pitch, micrometres.
	PixelPitchUM = 3.0
	// FocalLengthMM is the lens's focal length: 836 pixels of 3 um.
	FocalLengthMM = focalPx * PixelPitchUM / 1000
	// FocusMM is the distance the fixed-focus lens is focused at.
	FocusMM = 150.0
	// BlackLevel is the sensor's nominal black level (pedestal) in 8-bit
	// grey levels: the OV9281's default BLC target 0x40 of 10 bits. A
	// capture drifts from it by up to 1.5 grey levels (temperature).
	BlackLevel = 16.0
	// BankOffsetMM is how far each LED bank sits left or right of the lens.
	BankOffsetMM = 35.0
	// MaxExposureMS and MaxGain bound auto-exposure: the LED pulse is only
	// as long as the exposure (eye safety, IEC 62471) and longer exposures
	// smear a moving hand.
	MaxExposureMS = 4.0
	MinExposureMS = 0.05
	MaxGain       = 4.0
)

const (
	focalPx   = 836.0 // focal length in pixels: an 85 mm palm at 150 mm is 474 px wide
	pairRate  = 30.0  // strobed pairs per second of the legacy Render
	ledM      = 2     // LED emission cos^m: half intensity at 45 degrees
	kRef      = 120.0 // grey levels per ms at gain 1 for albedo 1 under both banks at 150 mm
	aeTarget  = 150.0 // auto-exposure target: the palm's lit mean above black, grey levels
	ePerDN    = 30.0  // electrons per 8-bit grey level at gain 1 (full well about 7,700 e-)
	readNoise = 0.9   // read noise at gain 1, grey levels
	rowNoise  = 0.35  // row-to-row offset noise per frame, grey levels
	dsnuSigma = 0.4   // dark-signal non-uniformity, grey levels
	prnuSigma = 0.01  // photo-response non-uniformity, fraction
)

// Banks is the set of LED banks lit during one frame.
type Banks uint8

// The kiosk's two 850 nm LED banks, left and right of the lens.
const (
	BankLeft  Banks = 1 << iota // the bank at -BankOffsetMM
	BankRight                   // the bank at +BankOffsetMM
	NoBanks   Banks = 0
	AllBanks        = BankLeft | BankRight
)

// ledNorm makes both banks together give irradiance 1 at a frontal point
// on the axis at 150 mm.
var ledNorm = func() float64 {
	r2 := FocusMM*FocusMM + BankOffsetMM*BankOffsetMM
	c := FocusMM / math.Sqrt(r2)
	return 1 / (2 * math.Pow(c, ledM+1) / r2)
}()

// shader computes what one LED bank, the room and the lens make of a
// surface element, for one capture (pose of frame 0).
type shader struct {
	fwd      affine
	rot      float64
	dist     float64 // camera to palm centre, mm
	mmPerU   float64 // millimetres per canonical unit
	tiltDir  vec     // canonical direction the surface recedes along
	tiltTan  float64
	tiltSin  float64
	k        float64 // grey levels per unit albedo x irradiance
	amb      float64 // room irradiance on the side facing the camera, relative
	ambDir   vec     // ambient gradient per palm width
	ambSide  float64 // extra ambient on surfaces facing sideways (low sun)
	sunDir   [2]float64
	vignette bool
}

// surface is what lies at one point: its height towards the camera (mm),
// its slope along canvas x and y (dimensionless, canonical), its diffuse
// albedo and a specular lobe (Fresnel reflectance and Blinn-Phong
// exponent).
type surface struct {
	heightMM, hx, hy float64
	albedo           float64
	ks, shin         float64
	wrap             float64 // subsurface scattering carries light past the terminator
}

// light returns the grey levels (above black) the sensor sees at canonical
// point q: under the left bank, the right bank and the room alone.
func (sh *shader) light(q vec, s surface) (b1, b2, amb float64) {
	fx, fy := sh.fwd.apply(q)
	along := q.dot(sh.tiltDir)
	z := sh.dist - s.heightMM + sh.tiltSin*sh.mmPerU*along
	X, Y := (fx-Width/2)*z/focalPx, (fy-Height/2)*z/focalPx
	// Slope of z over the frame: the height field (canvas axes rotate into
	// the frame with the pose), then the tilt.
	cs, sn := math.Cos(sh.rot), math.Sin(sh.rot)
	sx := -(cs*s.hx - sn*s.hy)
	sy := -(sn*s.hx + cs*s.hy)
	tdx, tdy := cs*sh.tiltDir.u+sn*sh.tiltDir.v, sn*sh.tiltDir.u-cs*sh.tiltDir.v
	sx += sh.tiltTan * tdx
	sy += sh.tiltTan * tdy
	nl := 1 / math.Sqrt(sx*sx+sy*sy+1)
	nx, ny, nz := sx*nl, sy*nl, -nl // towards the camera
	// View direction from the point to the lens.
	vl := 1 / math.Sqrt(X*X+Y*Y+z*z)
	vx, vy, vz := -X*vl, -Y*vl, -z*vl
	var out [2]float64
	for b, bx := range [2]float64{-BankOffsetMM, BankOffsetMM} {
		lx, ly, lz := bx-X, -Y, -z
		r2 := lx*lx + ly*ly + lz*lz
		r := math.Sqrt(r2)
		lx, ly, lz = lx/r, ly/r, lz/r
		cosI := nx*lx + ny*ly + nz*lz
		cosW := (cosI + s.wrap) / (1 + s.wrap) // "wrap" diffuse: light scattered under the skin
		if cosW <= 0 {
			continue
		}
		cosE := z / r
		e := ledNorm * cosE * cosE / r2 // irradiance normal to the ray (cos^ledM)
		v := s.albedo * e * cosW
		if s.ks > 0 {
			hx, hy, hz := lx+vx, ly+vy, lz+vz
			hl := math.Sqrt(hx*hx + hy*hy + hz*hz)
			nh := (nx*hx + ny*hy + nz*hz) / hl
			// Below 1-9.2/shin the lobe is under 1e-4 of its peak.
			if cosI > 0 && nh > 1-9.2/s.shin {
				// Normalised Blinn-Phong: (n+8)/8 keeps the lobe's energy.
				v += s.ks * e * cosI * (s.shin + 8) / 8 * math.Pow(nh, s.shin)
			}
		}
		out[b] = v
	}
	// The room: the palm faces down to the kiosk, so it gets only light
	// the kiosk's surroundings bounce up, plus low sun from the side.
	a := sh.amb * max(0.2, 1+sh.ambDir.dot(q)) * (0.5 + 0.5*(-nz))
	if sh.ambSide > 0 {
		a += sh.ambSide * max(0, nx*sh.sunDir[0]+ny*sh.sunDir[1]+0.35)
	}
	amb = s.albedo * a
	vig := 1.0
	if sh.vignette {
		// Relative illumination of the lens: the cosine of the field angle,
		// 74 % in the corners (a wide M12 lens's datasheet curve; the
		// natural cos^4 falloff is partly compensated by the lens design).
		vig = focalPx / math.Sqrt(focalPx*focalPx+(fx-Width/2)*(fx-Width/2)+(fy-Height/2)*(fy-Height/2))
	}
	k := sh.k * vig
	return out[0] * k, out[1] * k, amb * k
}

// ledOnAxis is the irradiance both banks give a frontal point on the axis
// at d millimetres.
func ledOnAxis(d float64) float64 {
	r2 := d*d + BankOffsetMM*BankOffsetMM
	c := d / math.Sqrt(r2)
	return 2 * ledNorm * math.Pow(c, ledM+1) / r2
}

// autoExposure returns the exposure (ms) and gain that bring a surface of
// the given albedo at d mm, under the LEDs plus ambient irradiance amb, to
// the target grey level: the converged state of the sensor's AE loop
// metering the palm.
func autoExposure(albedo, d, amb float64) (expMS, gain float64) {
	want := aeTarget / (kRef * albedo * (ledOnAxis(d) + amb))
	expMS = max(MinExposureMS, min(MaxExposureMS, want))
	gain = max(1, min(MaxGain, want/expMS))
	return expMS, gain
}

// sensorPattern is the fixed-pattern noise of the one simulated sensor:
// photo-response (PRNU, per mille) and dark-signal (DSNU, grey levels x
// 32) non-uniformity per pixel. It is computed once and never changes.
var sensorPattern = sync.OnceValue(func() (p struct{ prnu, dsnu []int8 }) {
	p.prnu = make([]int8, Width*Height)
	p.dsnu = make([]int8, Width*Height)
	for i := range p.prnu {
		h := mix(uint64(i) ^ 0x5eed)
		p.prnu[i] = int8(max(-127, min(127, math.Round(gauss(h)*prnuSigma*1000))))
		p.dsnu[i] = int8(max(-127, min(127, math.Round(gauss(mix(h))*dsnuSigma*32))))
	}
	return p
})

// gauss maps a 64-bit hash to an approximately normal deviate (sum of four
// uniforms, variance-scaled).
func gauss(h uint64) float64 {
	var s float64
	for range 4 {
		s += float64(h&0xffff) / 65536
		h >>= 16
	}
	return (s - 2) * math.Sqrt(3)
}
