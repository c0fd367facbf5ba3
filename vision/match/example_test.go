package match_test

import (
	"fmt"
	"image"

	"github.com/palmd/palmd/vision/match"
)

func Example() {
	// A palm region as vision/roi produces it; here a plain gradient.
	roi := image.NewGray(image.Rect(0, 0, match.Size, match.Size))
	for i := range roi.Pix {
		roi.Pix[i] = uint8(i % 251)
	}
	enrolled, err := match.NewTemplate(roi)
	if err != nil {
		fmt.Println(err)
		return
	}
	stored, _ := enrolled.MarshalBinary()

	var t match.Template
	if err := t.UnmarshalBinary(stored); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(stored), match.Similarity(enrolled, t) >= match.Threshold)
	// Output: 389 true
}
