package roi

import (
	"errors"
	"image"
	"testing"
)

// FuzzExtract feeds arbitrary frames (camera bytes are outside input): Extract
// must return nil or ErrNotFound and never crash, whatever the shapes in the
// frame. The first two bytes set the frame size; the rest, repeated, are
// the pixels, so short inputs still draw large blobs.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add([]byte{255, 255, 0, 0, 0, 255, 255, 255, 0, 0})
	f.Add([]byte{100, 60, 10, 200, 200, 200, 10, 10, 200, 200, 10})
	hand := drawHand(1, pose{640, 480, 250, 0, 1}, 1)
	small := make([]byte, 2, 2+160*100)
	small[0], small[1] = 160-64, 100-64
	for y := range 100 {
		for x := range 160 {
			small = append(small, hand.Pix[y*8*hand.Stride+x*8])
		}
	}
	f.Add(small)
	e := NewExtractor()
	defer e.Close()
	dst := image.NewGray(image.Rect(0, 0, Size, Size))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		w, h := 64+int(data[0]), 64+int(data[1])
		pix := data[2:]
		frame := image.NewGray(image.Rect(0, 0, w, h))
		for i := range frame.Pix {
			frame.Pix[i] = pix[i%len(pix)]
		}
		if err := e.Extract(frame, nil, dst); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("Extract error %v, want nil or ErrNotFound", err)
		}
	})
}
