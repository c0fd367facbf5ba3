package quality

import (
	"image"
	"math"
	"testing"
)

// FuzzCheckAt feeds the gate lit and unlit frames no camera should send
// but a failing one might: any size (the unlit one may differ), any
// pixels, any presence-sensor reading. It must not panic; a verdict is OK
// exactly when its reason is, carries guidance otherwise, and its scores
// are numbers. Seeds: those added here and the inputs the fuzzer found in
// testdata/fuzz/FuzzCheckAt.
func FuzzCheckAt(f *testing.F) {
	f.Add(uint16(640), uint16(400), uint16(640), int16(150), []byte{10, 200, 180, 16, 250, 90})
	f.Add(uint16(3), uint16(2), uint16(5), int16(-1), []byte{255})
	f.Add(uint16(1280), uint16(800), uint16(0), int16(0), []byte{0, 0, 0, 120, 130, 140, 255, 12})
	g := NewGate()
	defer g.Close()
	f.Fuzz(func(t *testing.T, w, h, unlitW uint16, distanceMM int16, pix []byte) {
		if len(pix) == 0 {
			return
		}
		frame := func(w, h, shift int) *image.Gray {
			img := image.NewGray(image.Rect(0, 0, w, h))
			for j := range img.Pix {
				img.Pix[j] = pix[(j+shift)%len(pix)]
			}
			return img
		}
		size := image.Pt(int(w)%1400, int(h)%900)
		lit := frame(size.X, size.Y, 0)
		var unlit *image.Gray
		if unlitW > 0 {
			// The unlit frame is darker, and may be of another size.
			unlit = frame(int(unlitW)%1400, size.Y, 3)
			for j, v := range unlit.Pix {
				unlit.Pix[j] = v / 2
			}
		}
		v := g.CheckAt(lit, unlit, int(distanceMM))
		if v.OK != (v.Reason == OK) {
			t.Fatalf("%v frame: OK %v with reason %q", size, v.OK, v.Reason)
		}
		if !v.OK && v.Guidance == "" {
			t.Fatalf("%v frame: refused (%s) without guidance", size, v.Reason)
		}
		s := v.Scores
		for name, x := range map[string]float64{"Contrast": s.Contrast, "Brightness": s.Brightness, "Saturation": s.Saturation,
			"Glare": s.Glare, "Area": s.Area, "Offset": s.Offset, "Radius": s.Radius, "Motion": s.Motion, "Focus": s.Focus,
			"DistanceMM": s.DistanceMM, "PalmMM": s.PalmMM} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%v frame: %s is %v", size, name, x)
			}
		}
	})
}
