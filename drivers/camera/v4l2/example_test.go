package v4l2_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/drivers/camera"
	"github.com/palmd/palmd/drivers/camera/v4l2"
)

func Example() {
	cam, err := v4l2.New(v4l2.Options{
		Path: "/dev/video0", Width: 1280, Height: 800, FPS: 60, Format: "auto",
		Exposure: 40, Gain: 16, FrameTimeout: 500 * time.Millisecond,
		// Only for this example: a camera that is not plugged in.
		OpenDevice: func(string) (v4l2.Device, error) { return nil, unix.ENOENT },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cam.Halt()
	frame := image.NewGray(cam.Bounds())
	err = cam.Capture(context.Background(), frame)
	fmt.Println(errors.Is(err, camera.ErrUnavailable))
	fmt.Println(err)
	// Output:
	// true
	// v4l2: /dev/video0: camera: unavailable: open: no such file or directory
}
