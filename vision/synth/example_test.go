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

// A tablet replaying a palm shows this camera almost nothing: its display
// emits no 850 nm light, so it answers the LEDs far less than a hand does.
func Example_screenReplay() {
	response := func(p synth.Presentation) float64 {
		scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf("alice"), Seed: 2, Presentation: p})
		lit := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
		unlit := image.NewGray(lit.Rect)
		scene.Render(lit, 0, true)
		scene.Render(unlit, 0, false)
		return mean(lit) - mean(unlit)
	}
	fmt.Println(response(synth.ScreenReplay) < 0.5*response(synth.Genuine))
	// Output: true
}
