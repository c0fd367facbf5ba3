package roi

import (
	"math"
	"testing"
)

// TestFromValleys checks where the region goes for given valleys around a
// palm centred at (100, 100) with radius 50, fingers up (towards -y).
func TestFromValleys(t *testing.T) {
	palm := circle{100, 100, 50}
	rl, mr, im := point{76, 45}, point{100, 43}, point{124, 46}
	thumb := point{150, 80}
	uprightThumb := point{148, 50}
	upright := square{cx: 100, cy: 45.5 + offD*48, side: sideR * 50, ux: 0, uy: -1, by: byThreeValleys}
	rotate := func(p point, deg float64) point {
		s, c := math.Sincos(deg * math.Pi / 180)
		dx, dy := p.x-palm.x, p.y-palm.y
		return point{palm.x + c*dx - s*dy, palm.y + s*dx + c*dy}
	}
	turned := upright
	ctr := rotate(point{upright.cx, upright.cy}, 20)
	turned.cx, turned.cy = ctr.x, ctr.y
	turned.ux, turned.uy = math.Sincos(20 * math.Pi / 180)
	turned.uy = -turned.uy
	tests := []struct {
		name string
		vs   []point
		want square
		ok   bool
	}{
		{"three finger valleys", []point{rl, mr, im}, upright, true},
		{"with the thumb's valley", []point{thumb, im, rl, mr}, upright, true},
		{"with an upright thumb's valley in line", []point{rl, mr, im, uprightThumb}, upright, true},
		{"turned 20°", []point{rotate(rl, 20), rotate(mr, 20), rotate(im, 20)}, turned, true},
		{"outer pair, middle gap closed", []point{rl, im}, square{cx: 100, cy: 45.5 + offD*48, side: sideR * 50, ux: 1.0 / 48, uy: -1, by: byOuterPair}, true},
		{"neighbours only", []point{mr, im}, square{cx: 100, cy: 100, side: sideR * 50, ux: 3.0 / 24, uy: -1, by: byNeighbours}, true},
		{"one valley", []point{mr}, square{}, false},
		{"none", nil, square{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fromValleys(palm, tt.vs)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if d := math.Hypot(got.cx-tt.want.cx, got.cy-tt.want.cy); d > 2 {
				t.Errorf("centre (%.1f, %.1f), want (%.1f, %.1f)", got.cx, got.cy, tt.want.cx, tt.want.cy)
			}
			if got.by != tt.want.by {
				t.Errorf("placed by %d, want %d", got.by, tt.want.by)
			}
			if math.Abs(got.side-tt.want.side) > 0.5 {
				t.Errorf("side %.1f, want %.1f", got.side, tt.want.side)
			}
			wantAng := math.Atan2(tt.want.uy, tt.want.ux)
			if d := math.Abs(math.Remainder(math.Atan2(got.uy, got.ux)-wantAng, 2*math.Pi)); d > 3*math.Pi/180 {
				t.Errorf("fingers towards (%.3f, %.3f), want (%.3f, %.3f)", got.ux, got.uy, tt.want.ux, tt.want.uy)
			}
		})
	}
}

func TestInFrame(t *testing.T) {
	tests := []struct {
		name string
		sq   square
		want bool
	}{
		{"centred", square{cx: 320, cy: 200, side: 100, uy: -1}, true},
		{"near the left edge", square{cx: 50, cy: 200, side: 100, uy: -1}, false},
		{"turned 45° near the top", square{cx: 320, cy: 80, side: 100, ux: math.Sqrt2 / 2, uy: -math.Sqrt2 / 2}, false},
		{"turned 45° clear of the top", square{cx: 320, cy: 90, side: 100, ux: math.Sqrt2 / 2, uy: -math.Sqrt2 / 2}, true},
	}
	for _, tt := range tests {
		if got := inFrame(tt.sq, 640, 400); got != tt.want {
			t.Errorf("%s: inFrame = %v, want %v", tt.name, got, tt.want)
		}
	}
}
