package display_test

import (
	"fmt"
	"image"

	"github.com/palmd/palmd/drivers/display"
)

func ExampleRender() {
	img := image.NewRGBA(image.Rect(0, 0, 800, 480))
	display.Render(img, display.Screen{Name: "approved", Title: "Approved", Body: "Have a nice day", Tone: display.Success})
	fmt.Println(img.RGBAAt(400, 0) == display.ToneColour(display.Success))
	// Output: true
}
