package liveness_test

import (
	"fmt"
	"image"

	"github.com/palmd/palmd/vision/liveness"
)

func Example() {
	c := liveness.NewChecker()
	defer c.Close()

	// A burst in which the "palm" is as bright with the LEDs off as with
	// them on: it does not answer the LEDs at all (a display glowing in
	// the visible, or a lamp).
	burst := make([]liveness.Pair, liveness.BurstPairs)
	for i := range burst {
		lit := image.NewGray(image.Rect(0, 0, 1280, 800))
		for y := 200; y < 600; y++ {
			for x := 400; x < 880; x++ {
				lit.Pix[y*lit.Stride+x] = 180
			}
		}
		unlit := image.NewGray(lit.Rect)
		copy(unlit.Pix, lit.Pix)
		burst[i] = liveness.Pair{Lit: lit, Unlit: unlit}
	}
	r := c.Check(burst)
	fmt.Println(r.Live, r.Reason)
	// Output: false no_nir_response
}
