package liveness

import (
	"image"
	"math"
	"testing"
)

// FuzzCheckBurst feeds CheckBurst frames no camera should send but a
// failing one might: any size, any pattern, any pixels, any black level
// and distance. It must not panic, and its score must be a number in
// [0, 1] that agrees with Live. Seeds: those added here and the inputs
// the fuzzer found in testdata/fuzz/FuzzCheckBurst.
func FuzzCheckBurst(f *testing.F) {
	f.Add(uint16(640), uint16(400), uint8(16), uint16(150), []byte{0, 1, 2, 3, 0, 1, 2, 3, 40, 200, 90})
	f.Add(uint16(9), uint16(7), uint8(0), uint16(0), []byte{3, 3, 3, 3, 3, 3, 3, 0, 255})
	f.Add(uint16(320), uint16(200), uint8(255), uint16(70), []byte{2, 0, 1, 0, 2, 1, 3, 3, 250, 251, 0, 7})
	c := NewChecker()
	defer c.Close()
	f.Fuzz(func(t *testing.T, w, h uint16, black uint8, distanceMM uint16, data []byte) {
		size := image.Pt(1+int(w)%700, 1+int(h)%450)
		if len(data) < BurstFrames+1 {
			return
		}
		pattern, pix := data[:BurstFrames], data[BurstFrames:]
		b := Burst{Frames: make([]Frame, BurstFrames), Black: float64(black), DistanceMM: int(distanceMM)}
		for i := range b.Frames {
			img := image.NewGray(image.Rectangle{Max: size})
			for j := range img.Pix {
				// The pixels repeat, shifted by frame, so frames differ.
				img.Pix[j] = pix[(j+i*7)%len(pix)]
			}
			b.Frames[i] = Frame{Img: img, Banks: pattern[i] & BanksBoth}
		}
		r := c.CheckBurst(b)
		if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
			t.Fatalf("%v frames: score %v, want a number in [0, 1]", size, r.Score)
		}
		if r.Reason != TooFewFrames && r.Live != (r.Score >= 0.5) {
			t.Fatalf("%v frames: Live %v with score %v", size, r.Live, r.Score)
		}
	})
}
