package roi

import (
	"image"
	"math"
	"math/rand/v2"
)

// pose places a drawn hand in the frame.
type pose struct {
	cx, cy float64 // palm centre, frame pixels
	width  float64 // palm width, frame pixels
	angle  float64 // rotation of the fingers from straight up, radians (clockwise)
	spread float64 // finger spread factor
}

// drawHand draws a hand-like blob, palm down, fingers up, forearm down and out
// of the frame, into a 1280x800 frame: a rounded palm, four fingers, a
// thumb, and dark lines on the palm seeded by id. Coordinates are in palm
// widths with +v towards the fingers, as a palm photographed from below.
func drawHand(id uint64, p pose, noiseSeed uint64) *image.Gray {
	type capsule struct {
		a, b [2]float64
		r    float64
	}
	caps := []capsule{
		{[2]float64{0, -0.1}, [2]float64{0, -3}, 0.38}, // forearm
	}
	bases := [4][2]float64{{-0.37, 0.46}, {-0.125, 0.54}, {0.12, 0.55}, {0.365, 0.51}}
	rest := [4]float64{-0.2, -0.07, 0, 0.08}
	lengths := [4]float64{0.65, 0.85, 0.92, 0.82}
	widths := [4]float64{0.165, 0.195, 0.215, 0.205}
	for i, b := range bases {
		a := rest[i] * p.spread
		tip := [2]float64{b[0] + lengths[i]*math.Sin(a), b[1] + lengths[i]*math.Cos(a)}
		caps = append(caps, capsule{[2]float64{b[0], b[1] - 0.1}, tip, widths[i] / 2})
	}
	caps = append(caps, capsule{[2]float64{0.38, -0.16}, [2]float64{0.38 + 0.7*math.Sin(0.85), -0.16 + 0.7*math.Cos(0.85)}, 0.115})

	r := rand.New(rand.NewPCG(id, 7))
	type line struct {
		a, b [2]float64
		w    float64
	}
	lines := make([]line, 25)
	for i := range lines {
		x, y := r.Float64()-0.5, r.Float64()-0.5
		t := r.Float64() * math.Pi
		l := 0.1 + 0.3*r.Float64()
		lines[i] = line{[2]float64{x, y}, [2]float64{x + l*math.Cos(t), y + l*math.Sin(t)}, 0.006 + 0.01*r.Float64()}
	}

	nr := rand.New(rand.NewPCG(noiseSeed, 9))
	img := image.NewGray(image.Rect(0, 0, 1280, 800))
	s, c := math.Sin(p.angle), math.Cos(p.angle)
	for y := range 800 {
		for x := range 1280 {
			// Frame to hand coordinates: undo the rotation, flip y so +v is up.
			dx, dy := (float64(x)-p.cx)/p.width, (float64(y)-p.cy)/p.width
			u := dx*c + dy*s
			v := -(-dx*s + dy*c)
			in := false
			if math.Abs(u) < 0.5 && math.Abs(v) < 0.55 {
				in = true
			}
			for _, k := range caps {
				if segDist(u, v, k.a, k.b) < k.r {
					in = true
					break
				}
			}
			val := 20.0
			if in {
				val = 180
				for _, l := range lines {
					if d := segDist(u, v, l.a, l.b); d < 3*l.w {
						val -= 60 * math.Exp(-d*d/(2*l.w*l.w))
					}
				}
			}
			val += nr.NormFloat64() * 4
			img.Pix[y*img.Stride+x] = uint8(min(max(val, 0), 255))
		}
	}
	return img
}

func segDist(u, v float64, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := min(max(((u-a[0])*dx+(v-a[1])*dy)/(dx*dx+dy*dy), 0), 1)
	return math.Hypot(u-a[0]-t*dx, v-a[1]-t*dy)
}
