package v4l2

import (
	"context"
	"fmt"
	"image"
	"os"
	"testing"
)

// TestHardwareCamera captures from a real camera when PALMD_HW_CAMERA names
// one (e.g. /dev/video0); PALMD_HW_CAMERA_MODE is "WxH@FPS" (default
// 1280x800@60).
func TestHardwareCamera(t *testing.T) {
	path := os.Getenv("PALMD_HW_CAMERA")
	if path == "" {
		t.Skip("no camera rig (set PALMD_HW_CAMERA)")
	}
	w, h, fps := 1280, 800, 60
	if m := os.Getenv("PALMD_HW_CAMERA_MODE"); m != "" {
		if _, err := fmt.Sscanf(m, "%dx%d@%d", &w, &h, &fps); err != nil {
			t.Fatalf("PALMD_HW_CAMERA_MODE %q: %v", m, err)
		}
	}
	c, err := Open(Options{Path: path, Width: w, Height: h, FPS: fps, Format: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Halt()
	frame := image.NewGray(c.Bounds())
	for i := range 10 {
		if err := c.Capture(context.Background(), frame); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	nonzero := 0
	for _, v := range frame.Pix {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("the camera delivers black frames")
	}
	t.Logf("%s: %s %dx%d, %d of %d pixels lit", path, c.Format(), w, h, nonzero, len(frame.Pix))
}
