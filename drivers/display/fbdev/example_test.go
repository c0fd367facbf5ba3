package fbdev_test

import (
	"fmt"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/display/fbdev"
)

func ExampleNew() {
	// On a kiosk: fb, err := fbdev.Open("/dev/fb0"). New draws into memory
	// laid out like a framebuffer, here a plain 800x480 RGB565 buffer.
	g := fbdev.Geometry{Width: 800, Height: 480, Stride: 1600, Format: fbdev.RGB565}
	mem := make([]byte, g.Stride*g.Height)
	fb, err := fbdev.New(mem, g)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fb.Close()
	if err := fb.Show(display.Screen{Name: "idle", Title: "Hello", Tone: display.Info}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(fb.Bounds().Size(), fb.Format(), mem[0] != 0 || mem[1] != 0)
	// Output: (800,480) RGB565 true
}
