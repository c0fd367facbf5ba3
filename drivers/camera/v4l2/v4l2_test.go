package v4l2

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/blackjack/webcam"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/drivers/camera"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is the expected 8-bit frame, a PGM written by the fixture generator.
func want(t testing.TB) []byte {
	b := fixture(t, "want_16x4.pgm")
	return b[len("P5\n16 4\n255\n"):]
}

var fixtures = []struct {
	file   string
	format webcam.PixelFormat
}{
	{"GREY_16x4.raw", GREY},
	{"GREY_padded_16x4.raw", GREY},
	{"Y10_16x4.raw", Y10},
	{"Y10P_16x4.raw", Y10P},
	{"Y16_16x4.raw", Y16},
	{"YUYV_16x4.raw", YUYV},
}

func TestConvertFixtures(t *testing.T) {
	for _, fx := range fixtures {
		src := fixture(t, fx.file)
		dst := image.NewGray(image.Rect(0, 0, 16, 4))
		if err := convert(fx.format, src, dst); err != nil {
			t.Fatalf("%s: %v", fx.file, err)
		}
		if !bytes.Equal(dst.Pix, want(t)) {
			t.Errorf("%s: got % x\nwant % x", fx.file, dst.Pix, want(t))
		}
		if n := testing.AllocsPerRun(10, func() { _ = convert(fx.format, src, dst) }); n != 0 {
			t.Errorf("%s: %v allocations a frame", fx.file, n)
		}
		if err := convert(fx.format, src[:len(src)-len(src)/4-1], dst); err == nil {
			t.Errorf("%s: a short frame converted", fx.file)
		}

	}
}

func TestConvertRefusesOtherMode(t *testing.T) {
	// A driver that ignored the size asked for: 1280-wide frames for a
	// 640-wide mode are refused, not garbled.
	dst := image.NewGray(image.Rect(0, 0, 640, 8))
	for _, f := range []webcam.PixelFormat{GREY, Y10, Y10P, Y16, YUYV} {
		if err := convert(f, make([]byte, minStride(f, 1280)*8), dst); err == nil {
			t.Errorf("%s: a 1280-wide frame converted into 640", fourcc(f))
		}
		if err := convert(f, make([]byte, (minStride(f, 640)+64)*8), dst); err != nil {
			t.Errorf("%s: 64 bytes of line padding refused: %v", fourcc(f), err)
		}
	}
}

func newRig(frame []byte, formats ...webcam.PixelFormat) *rig {
	return &rig{newDev: func() *fakeDev {
		d := &fakeDev{formats: map[webcam.PixelFormat]string{}, frame: frame,
			sizes: []webcam.FrameSize{{MinWidth: 16, MaxWidth: 1280, StepWidth: 16, MinHeight: 4, MaxHeight: 800, StepHeight: 4}},
			controls: map[webcam.ControlID]webcam.Control{
				cidExposureAuto: {Min: 0, Max: 3}, cidExposureAbsolute: {Min: 1, Max: 5000},
				cidAutogain: {Min: 0, Max: 1}, cidGain: {Min: 0, Max: 255},
			}}
		for _, f := range formats {
			d.formats[f] = fourcc(f)
		}
		return d
	}}
}

func opts(r *rig, clock clockwork.Clock) Options {
	return Options{Path: "/dev/video0", Width: 16, Height: 4, FPS: 60, Format: "auto",
		FrameTimeout: 500 * time.Millisecond, Clock: clock, OpenDevice: r.open}
}

func TestCaptureEachFormat(t *testing.T) {
	for _, fx := range fixtures {
		r := newRig(fixture(t, fx.file), fx.format, YUYV)
		c, err := Open(opts(r, nil))
		if err != nil {
			t.Fatal(err)
		}
		dst := image.NewGray(c.Bounds())
		for range 3 {
			if err := c.Capture(context.Background(), dst); err != nil {
				t.Fatalf("%s: %v", fx.file, err)
			}
			if !bytes.Equal(dst.Pix, want(t)) {
				t.Fatalf("%s: wrong pixels % x", fx.file, dst.Pix)
			}
		}
		d := r.last()
		if d.format != fx.format || d.w != 16 || d.h != 4 || d.fps != 60 || d.bufs != 4 {
			t.Errorf("%s: device set to %s %dx%d@%v, %d buffers", fx.file, fourcc(d.format), d.w, d.h, d.fps, d.bufs)
		}
		if d.released != d.dequeued || d.dequeued != 3 {
			t.Errorf("%s: %d frames dequeued, %d released", fx.file, d.dequeued, d.released)
		}
		if c.Format() != fourcc(fx.format) {
			t.Errorf("Format() = %q", c.Format())
		}
	}
}

func TestNegotiation(t *testing.T) {
	tests := []struct {
		name    string
		offered []webcam.PixelFormat
		format  string
		width   int
		chose   webcam.PixelFormat
		want    webcam.PixelFormat
		err     error
	}{
		{"auto prefers GREY", []webcam.PixelFormat{YUYV, Y16, GREY}, "auto", 16, 0, GREY, nil},
		{"auto prefers packed 10-bit", []webcam.PixelFormat{YUYV, Y10, Y10P}, "", 16, 0, Y10P, nil},
		{"auto falls back to YUYV", []webcam.PixelFormat{YUYV}, "auto", 16, 0, YUYV, nil},
		{"asked for Y16", []webcam.PixelFormat{GREY, Y16}, "Y16", 16, 0, Y16, nil},
		{"asked for one not offered", []webcam.PixelFormat{GREY}, "Y10", 16, 0, 0, ErrNegotiation},
		{"no grey format", []webcam.PixelFormat{webcam.PixelFormat(0x47504a4d)}, "auto", 16, 0, 0, ErrNegotiation},
		{"size not offered", []webcam.PixelFormat{GREY}, "auto", 24, 0, 0, ErrNegotiation},
		{"driver substitutes", []webcam.PixelFormat{GREY, YUYV}, "GREY", 16, YUYV, 0, ErrNegotiation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(fixture(t, "GREY_16x4.raw"), tt.offered...)
			inner := r.newDev
			r.newDev = func() *fakeDev { d := inner(); d.chose = tt.chose; return d }
			o := opts(r, nil)
			o.Format, o.Width = tt.format, tt.width
			c, err := Open(o)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Open = %v, want %v", err, tt.err)
				}
				if d := r.last(); !d.closed || d.streaming {
					t.Error("device left open after a failed negotiation")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.last().format; got != tt.want {
				t.Errorf("format %s, want %s", fourcc(got), fourcc(tt.want))
			}
			c.Halt()
		})
	}
}

func TestControls(t *testing.T) {
	tests := []struct {
		name           string
		exposure, gain int
		drop           webcam.ControlID // a control the camera lacks
		want           []ctlSet
		err            bool
	}{
		{"automatic", 0, 0, 0, nil, false},
		{"both manual", 40, 16, 0, []ctlSet{{cidExposureAuto, exposureManual}, {cidExposureAbsolute, 40}, {cidAutogain, 0}, {cidGain, 16}}, false},
		{"sensor exposure", 40, 0, cidExposureAbsolute, nil, true},
		{"exposure out of range", 9000, 0, 0, nil, true},
		{"gain without control", 0, 8, cidGain, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
			inner := r.newDev
			r.newDev = func() *fakeDev { d := inner(); delete(d.controls, tt.drop); return d }
			o := opts(r, nil)
			o.Exposure, o.Gain = tt.exposure, tt.gain
			_, err := Open(o)
			if tt.err {
				if !errors.Is(err, ErrNegotiation) {
					t.Fatalf("Open = %v, want ErrNegotiation", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.last().set; !slices.Equal(got, tt.want) {
				t.Errorf("controls set %v, want %v", got, tt.want)
			}
		})
	}
	// A sensor sub-device exposes V4L2_CID_EXPOSURE instead.
	r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
	inner := r.newDev
	r.newDev = func() *fakeDev {
		d := inner()
		delete(d.controls, cidExposureAbsolute)
		delete(d.controls, cidExposureAuto)
		d.controls[cidExposure] = webcam.Control{Min: 1, Max: 1000}
		return d
	}
	o := opts(r, nil)
	o.Exposure = 300
	if _, err := Open(o); err != nil {
		t.Fatal(err)
	}
	if got := r.last().set; !slices.Equal(got, []ctlSet{{cidExposure, 300}}) {
		t.Errorf("controls set %v", got)
	}
}

func TestUnplugAndRecover(t *testing.T) {
	clock := clockwork.NewFakeClock()
	r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
	c, err := New(opts(r, clock))
	if err != nil {
		t.Fatal(err)
	}
	dst := image.NewGray(c.Bounds())
	ctx := context.Background()
	if err := c.Capture(ctx, dst); err != nil { // opens lazily
		t.Fatal(err)
	}

	// Unplugged mid-stream: the next frame fails with ENODEV.
	dev := r.last()
	dev.frameErr = unix.ENODEV
	r.mu.Lock()
	r.unplugged = true
	r.mu.Unlock()
	err = c.Capture(ctx, dst)
	if !errors.Is(err, camera.ErrUnavailable) || !errors.Is(err, unix.ENODEV) {
		t.Fatalf("Capture = %v, want ErrUnavailable wrapping ENODEV", err)
	}
	if !dev.closed || dev.streaming {
		t.Fatal("failed device not stopped and closed")
	}

	// Within the backoff no open is attempted; each step doubles it.
	opens := func() int { r.mu.Lock(); defer r.mu.Unlock(); return r.opens }
	for _, wait := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
		before := opens()
		clock.Advance(wait - time.Millisecond)
		if err := c.Capture(ctx, dst); !errors.Is(err, camera.ErrUnavailable) {
			t.Fatalf("Capture during backoff = %v", err)
		}
		if opens() != before {
			t.Fatalf("reopened %v into a %v backoff", wait-time.Millisecond, wait)
		}
		clock.Advance(time.Millisecond)
		if err := c.Capture(ctx, dst); !errors.Is(err, camera.ErrUnavailable) || !errors.Is(err, unix.ENOENT) {
			t.Fatalf("Capture while unplugged = %v", err)
		}
		if opens() != before+1 {
			t.Fatalf("no reopen after the %v backoff", wait)
		}
	}

	// Plugged back in: after the (now 2 s) backoff the camera works again
	// and the backoff starts over.
	r.mu.Lock()
	r.unplugged = false
	r.mu.Unlock()
	clock.Advance(2 * time.Second)
	if err := c.Capture(ctx, dst); err != nil {
		t.Fatalf("Capture after replug: %v", err)
	}
	if !bytes.Equal(dst.Pix, want(t)) {
		t.Fatal("wrong frame after replug")
	}
	r.last().frameErr = unix.EIO
	if err := c.Capture(ctx, dst); !errors.Is(err, camera.ErrUnavailable) {
		t.Fatal(err)
	}
	clock.Advance(250 * time.Millisecond)
	if err := c.Capture(ctx, dst); err != nil {
		t.Fatalf("backoff did not start over: %v", err)
	}
}

func TestWedgedCamera(t *testing.T) {
	t.Run("poll timeout", func(t *testing.T) {
		r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
		c, err := Open(opts(r, clockwork.NewFakeClock()))
		if err != nil {
			t.Fatal(err)
		}
		dev := r.last()
		dev.waitErr = &webcam.Timeout{}
		if err := c.Capture(context.Background(), image.NewGray(c.Bounds())); !errors.Is(err, camera.ErrUnavailable) {
			t.Fatalf("Capture = %v, want ErrUnavailable", err)
		}
		if !dev.closed {
			t.Error("wedged device not closed")
		}
	})
	t.Run("no frame before the deadline", func(t *testing.T) {
		clock := clockwork.NewFakeClock()
		r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
		c, err := Open(opts(r, clock))
		if err != nil {
			t.Fatal(err)
		}
		dev := r.last()
		dev.frameErr, dev.clock, dev.tick = unix.EAGAIN, clock, 100*time.Millisecond
		start := clock.Now()
		if err := c.Capture(context.Background(), image.NewGray(c.Bounds())); !errors.Is(err, camera.ErrUnavailable) {
			t.Fatalf("Capture = %v, want ErrUnavailable", err)
		}
		if waited := clock.Since(start); waited < 500*time.Millisecond || waited > 600*time.Millisecond {
			t.Errorf("gave up after %v of clock time, want the 500ms frame timeout", waited)
		}
	})
}

func TestHaltAndRestart(t *testing.T) {
	clock := clockwork.NewFakeClock()
	r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
	c, err := Open(opts(r, clock))
	if err != nil {
		t.Fatal(err)
	}
	dev := r.last()
	if err := c.Halt(); err != nil {
		t.Fatal(err)
	}
	if dev.streaming || !dev.closed {
		t.Fatal("Halt left the device streaming or open")
	}
	if c.Format() != "" {
		t.Error("Format() of a halted camera")
	}
	if err := c.Capture(context.Background(), image.NewGray(c.Bounds())); err != nil {
		t.Fatalf("Capture after Halt: %v", err)
	}
	if len(r.devs) != 2 || !r.last().streaming {
		t.Fatal("Capture after Halt did not reopen the device")
	}
}

func TestCaptureChecks(t *testing.T) {
	r := newRig(fixture(t, "GREY_16x4.raw"), GREY)
	c, err := New(opts(r, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Capture(context.Background(), image.NewGray(image.Rect(0, 0, 8, 8))); err == nil {
		t.Error("Capture into a wrong-sized frame succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Capture(ctx, image.NewGray(c.Bounds())); !errors.Is(err, context.Canceled) {
		t.Errorf("Capture with a cancelled context = %v", err)
	}
	for _, o := range []Options{{Width: 0, Height: 4, FPS: 1}, {Width: 4, Height: 4, FPS: 1, Format: "MJPG"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func BenchmarkConvert(b *testing.B) {
	for _, f := range []webcam.PixelFormat{GREY, Y10, Y10P, Y16, YUYV} {
		b.Run(fourcc(f), func(b *testing.B) {
			dst := image.NewGray(image.Rect(0, 0, 1280, 800))
			src := make([]byte, minStride(f, 1280)*800)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if err := convert(f, src, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzConvert(f *testing.F) {
	for i, fx := range fixtures {
		f.Add(fixture(f, fx.file), uint8(i), uint16(16), uint16(4))
	}
	f.Fuzz(func(t *testing.T, src []byte, format uint8, w, h uint16) {
		formats := []webcam.PixelFormat{GREY, Y10, Y10P, Y16, YUYV, webcam.PixelFormat(0x47504a4d)}
		pf := formats[int(format)%len(formats)]
		dst := image.NewGray(image.Rect(0, 0, int(w%512), int(h%512)))
		if err := convert(pf, src, dst); err == nil && len(src) < minStride(pf, dst.Rect.Dx())*dst.Rect.Dy() {
			t.Fatalf("%d bytes converted into %v %s", len(src), dst.Rect.Size(), fourcc(pf))
		}
	})
}
