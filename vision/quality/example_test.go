package quality_test

import (
	"fmt"
	"image"

	"github.com/palmd/palmd/vision/quality"
)

func Example() {
	g := quality.NewGate()
	defer g.Close()

	// An empty lit frame: nothing in front of the scanner.
	frame := image.NewGray(image.Rect(0, 0, 1280, 800))
	v := g.Check(frame)
	fmt.Println(v.OK, v.Reason, v.Guidance)
	// Output: false no_palm Hold your palm over the scanner
}
