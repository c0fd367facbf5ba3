package fbdev

import (
	"os"
	"testing"
)

// TestHardwareFramebuffer shows every golden screen on a real framebuffer
// when PALMD_HW_FB names one (e.g. /dev/fb0), then blanks it.
func TestHardwareFramebuffer(t *testing.T) {
	path := os.Getenv("PALMD_HW_FB")
	if path == "" {
		t.Skip("no framebuffer rig (set PALMD_HW_FB)")
	}
	fb, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	t.Logf("%s: %v %v", path, fb.Bounds().Size(), fb.Format())
	for _, s := range screens {
		if err := fb.Show(s); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
	}
	if err := fb.Halt(); err != nil {
		t.Fatal(err)
	}
}
