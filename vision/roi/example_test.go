package roi_test

import (
	"errors"
	"fmt"
	"image"

	"github.com/palmd/palmd/vision/roi"
	"github.com/palmd/palmd/vision/synth"
)

func Example() {
	frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf("alice"), Seed: 1})
	scene.Render(frame, 0, true)

	e := roi.NewExtractor()
	defer e.Close()
	region := image.NewGray(image.Rect(0, 0, roi.Size, roi.Size))
	fmt.Println(e.Extract(frame, nil, region))

	// A dark frame has no hand in it.
	err := e.Extract(image.NewGray(frame.Rect), nil, region)
	fmt.Println(errors.Is(err, roi.ErrNotFound))
	// Output:
	// <nil>
	// true
}
