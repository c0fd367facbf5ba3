package synth_test

import (
	"fmt"
	"image"

	"github.com/palmd/palmd/vision/synth"
)

// A strobed pair of a live hand: the lit frame is much brighter than the
// unlit one.
func Example() {
	scene := synth.NewScene(synth.Capture{
		Identity:     synth.IdentityOf("alice"),
		Seed:         1,
		Presentation: synth.Genuine,
		Condition:    synth.Good,
	})
	lit := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	unlit := image.NewGray(lit.Rect)
	scene.Render(lit, 0, true)
	scene.Render(unlit, 0, false)
	fmt.Println(mean(lit) > 2*mean(unlit))
	// Output: true
}

func mean(g *image.Gray) float64 {
	var s int
	for _, v := range g.Pix {
		s += int(v)
	}
	return float64(s) / float64(len(g.Pix))
}

// A tablet replaying a palm glows by itself: its unlit frame is nearly as
// bright as its lit one, unlike a live hand's.
func Example_screenReplay() {
	scene := synth.NewScene(synth.Capture{
		Identity:     synth.IdentityOf("alice"),
		Seed:         2,
		Presentation: synth.ScreenReplay,
	})
	lit := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	unlit := image.NewGray(lit.Rect)
	scene.Render(lit, 0, true)
	scene.Render(unlit, 0, false)
	fmt.Println(mean(unlit) > 0.8*mean(lit))
	// Output: true
}
