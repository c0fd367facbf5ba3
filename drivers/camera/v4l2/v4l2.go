package v4l2

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blackjack/webcam"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/drivers/camera"
)

var _ camera.Camera = (*Camera)(nil)

// Device is what the driver uses of a V4L2 capture device; *webcam.Webcam
// implements it. It is the seam tests replace.
type Device interface {
	GetSupportedFormats() map[webcam.PixelFormat]string
	GetSupportedFrameSizes(f webcam.PixelFormat) []webcam.FrameSize
	SetImageFormat(f webcam.PixelFormat, width, height uint32) (webcam.PixelFormat, uint32, uint32, error)
	SetFramerate(fps float32) error
	GetControls() map[webcam.ControlID]webcam.Control
	SetControl(id webcam.ControlID, value int32) error
	SetBufferCount(n uint32) error
	StartStreaming() error
	// WaitForFrame waits up to timeout seconds; it returns *webcam.Timeout
	// when none came.
	WaitForFrame(timeout uint32) error
	GetFrame() ([]byte, uint32, error)
	ReleaseFrame(index uint32) error
	StopStreaming() error
	Close() error
}

// V4L2 control IDs (linux/v4l2-controls.h).
const (
	cidExposureAuto     webcam.ControlID = 0x009a0901 // V4L2_CID_EXPOSURE_AUTO
	cidExposureAbsolute webcam.ControlID = 0x009a0902 // V4L2_CID_EXPOSURE_ABSOLUTE
	cidExposure         webcam.ControlID = 0x00980911 // V4L2_CID_EXPOSURE (sensor sub-devices)
	cidAutogain         webcam.ControlID = 0x00980912 // V4L2_CID_AUTOGAIN
	cidGain             webcam.ControlID = 0x00980913 // V4L2_CID_GAIN
	exposureManual                       = 1          // V4L2_EXPOSURE_MANUAL
)

// errNoFrame is why a camera that sends no frame in time is closed.
var errNoFrame = errors.New("no frame within the frame timeout")

// ErrNegotiation reports a camera that does not offer the configured mode.
var ErrNegotiation = errors.New("v4l2: camera does not offer the configured mode")

// Options configure the camera.
type Options struct {
	// Path is the device node, e.g. "/dev/video0".
	Path string
	// Width, Height and FPS are the capture mode.
	Width, Height, FPS int
	// Format is "auto" (or "") or one of GREY, Y10, Y10P, Y16, YUYV.
	Format string
	// Exposure (in the control's units, 100 µs for exposure_time_absolute)
	// and Gain; 0 leaves the camera's automatic setting.
	Exposure, Gain int
	// FrameTimeout is how long Capture waits for a frame before it
	// declares the camera wedged; 0 means one second.
	FrameTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reopen attempts;
	// 0 means 250 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// Clock times the timeout and the backoff; nil means the real clock.
	Clock clockwork.Clock
	// Log receives the camera's state changes; nil discards them.
	Log *slog.Logger
	// OpenDevice opens the device node; nil means webcam.Open.
	OpenDevice func(path string) (Device, error)
}

// Camera is a V4L2 camera that reopens itself after failures. Its methods
// are safe for concurrent use; captures are serialised.
type Camera struct {
	o      Options
	format webcam.PixelFormat // requested; 0 for auto

	mu      sync.Mutex
	dev     Device             // nil while closed
	pix     webcam.PixelFormat // negotiated format of dev
	wait    time.Duration      // current backoff; 0 after a good frame
	retryAt time.Time          // no reopen before this
	down    bool               // unavailable since the last failure
}

// New validates o and returns the camera without opening it: the first
// Capture opens it, so a camera that is unplugged at start is reported as
// unavailable, not as a start-up failure. Use Open to fail early.
func New(o Options) (*Camera, error) {
	if o.Width <= 0 || o.Height <= 0 || o.FPS <= 0 {
		return nil, fmt.Errorf("v4l2: mode %dx%d@%d: must be positive", o.Width, o.Height, o.FPS)
	}
	c := &Camera{o: o}
	if o.Format != "" && o.Format != "auto" {
		f, ok := formatNames[o.Format]
		if !ok {
			return nil, fmt.Errorf("v4l2: format %q: want auto, GREY, Y10, Y10P, Y16 or YUYV", o.Format)
		}
		c.format = f
	}
	if c.o.FrameTimeout <= 0 {
		c.o.FrameTimeout = time.Second
	}
	if c.o.MinBackoff <= 0 {
		c.o.MinBackoff = 250 * time.Millisecond
	}
	if c.o.MaxBackoff < c.o.MinBackoff {
		c.o.MaxBackoff = max(10*time.Second, c.o.MinBackoff)
	}
	if c.o.Clock == nil {
		c.o.Clock = clockwork.NewRealClock()
	}
	if c.o.Log == nil {
		c.o.Log = slog.New(slog.DiscardHandler)
	}
	if c.o.OpenDevice == nil {
		c.o.OpenDevice = func(path string) (Device, error) { return webcam.Open(path) }
	}
	return c, nil
}

// Open is New followed by opening and starting the camera.
func Open(o Options) (*Camera, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.start(); err != nil {
		return nil, fmt.Errorf("v4l2: %s: %w", o.Path, err)
	}
	return c, nil
}

// Bounds implements camera.Camera.
func (c *Camera) Bounds() image.Rectangle { return image.Rect(0, 0, c.o.Width, c.o.Height) }

// Format is the negotiated pixel format's fourcc, "" while the camera is
// closed.
func (c *Camera) Format() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dev == nil {
		return ""
	}
	return fourcc(c.pix)
}

// Capture implements camera.Camera.
func (c *Camera) Capture(ctx context.Context, dst *image.Gray) error {
	if dst.Rect != c.Bounds() {
		return fmt.Errorf("v4l2: frame is %v, want %v", dst.Rect, c.Bounds())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.dev == nil {
		if now := c.o.Clock.Now(); now.Before(c.retryAt) {
			return fmt.Errorf("v4l2: %s: %w (next attempt in %v)", c.o.Path, camera.ErrUnavailable, c.retryAt.Sub(now).Round(time.Millisecond))
		}
		if err := c.start(); err != nil {
			return c.fail(err)
		}
	}
	return c.frame(ctx, dst)
}

// frame waits for the next frame and converts it; c.mu is held.
func (c *Camera) frame(ctx context.Context, dst *image.Gray) error {
	deadline := c.o.Clock.Now().Add(c.o.FrameTimeout)
	secs := uint32((c.o.FrameTimeout + time.Second - 1) / time.Second)
	for {
		if err := c.dev.WaitForFrame(secs); err != nil {
			var timeout *webcam.Timeout
			if errors.As(err, &timeout) {
				return c.fail(errNoFrame)
			}
			return c.fail(err)
		}
		buf, index, err := c.dev.GetFrame()
		if errors.Is(err, unix.EAGAIN) || err == nil && len(buf) == 0 {
			if !c.o.Clock.Now().Before(deadline) {
				return c.fail(errNoFrame)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return c.fail(err)
		}
		err = convert(c.pix, buf, dst)
		if rerr := c.dev.ReleaseFrame(index); rerr != nil {
			return c.fail(rerr)
		}
		if err != nil {
			return err // a damaged frame; the next one may be whole
		}
		if c.down {
			c.down = false
			c.o.Log.Info("camera: back in service", "device", c.o.Path, "format", fourcc(c.pix))
		}
		c.wait = 0
		return nil
	}
}

// fail closes the device after err and schedules the next open attempt; it
// returns err wrapped with camera.ErrUnavailable. c.mu is held.
func (c *Camera) fail(err error) error {
	if c.dev != nil {
		c.stop()
	}
	c.wait = min(max(2*c.wait, c.o.MinBackoff), c.o.MaxBackoff)
	c.retryAt = c.o.Clock.Now().Add(c.wait)
	if !c.down {
		c.down = true
		c.o.Log.Warn("camera: out of service", "device", c.o.Path, "err", err)
	}
	return fmt.Errorf("v4l2: %s: %w: %w", c.o.Path, camera.ErrUnavailable, err)
}

// start opens and configures the device and starts streaming; c.mu is
// held. Its errors do not name the package or device: its callers do.
func (c *Camera) start() error {
	dev, err := c.o.OpenDevice(c.o.Path)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	pix, err := c.negotiate(dev)
	if err == nil {
		err = dev.StartStreaming()
	}
	if err != nil {
		dev.Close()
		return err
	}
	c.dev, c.pix = dev, pix
	return nil
}

// negotiate sets format, size, rate, controls and buffers on dev.
func (c *Camera) negotiate(dev Device) (webcam.PixelFormat, error) {
	offered := dev.GetSupportedFormats()
	f := c.format
	if f == 0 {
		for _, p := range preference {
			if _, ok := offered[p]; ok {
				f = p
				break
			}
		}
	}
	if _, ok := offered[f]; !ok || f == 0 {
		return 0, fmt.Errorf("%w: format %s not offered (offers %s)", ErrNegotiation, c.o.Format, names(offered))
	}
	w, h := c.o.Width, c.o.Height
	if f == Y10P && w%4 != 0 || f == YUYV && w%2 != 0 {
		return 0, fmt.Errorf("%w: width %d does not fit %s", ErrNegotiation, w, fourcc(f))
	}
	if sizes := dev.GetSupportedFrameSizes(f); len(sizes) > 0 && !slices.ContainsFunc(sizes, fits(w, h)) {
		return 0, fmt.Errorf("%w: %dx%d not offered in %s", ErrNegotiation, w, h, fourcc(f))
	}
	got, _, _, err := dev.SetImageFormat(f, uint32(w), uint32(h))
	if err != nil {
		return 0, fmt.Errorf("set format %s %dx%d: %w", fourcc(f), w, h, err)
	}
	if got != f {
		return 0, fmt.Errorf("%w: asked for %s, driver chose %s", ErrNegotiation, fourcc(f), fourcc(got))
	}
	if err := dev.SetFramerate(float32(c.o.FPS)); err != nil {
		// Many sensors run at a fixed rate and do not take VIDIOC_S_PARM.
		c.o.Log.Warn("camera: frame rate not set", "device", c.o.Path, "fps", c.o.FPS, "err", err)
	}
	if err := c.controls(dev); err != nil {
		return 0, err
	}
	// A few buffers keep frames fresh: the strobe pairs must be recent.
	if err := dev.SetBufferCount(4); err != nil {
		return 0, err
	}
	return f, nil
}

// controls sets manual exposure and gain when configured.
func (c *Camera) controls(dev Device) error {
	if c.o.Exposure == 0 && c.o.Gain == 0 {
		return nil
	}
	have := dev.GetControls()
	set := func(name string, id webcam.ControlID, v int) error {
		ctl := have[id]
		if int32(v) < ctl.Min || int32(v) > ctl.Max {
			return fmt.Errorf("%w: %s %d outside %d–%d", ErrNegotiation, name, v, ctl.Min, ctl.Max)
		}
		if err := dev.SetControl(id, int32(v)); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
		return nil
	}
	if c.o.Exposure != 0 {
		if _, ok := have[cidExposureAuto]; ok {
			if err := dev.SetControl(cidExposureAuto, exposureManual); err != nil {
				return fmt.Errorf("manual exposure: %w", err)
			}
		}
		id := cidExposureAbsolute
		if _, ok := have[id]; !ok {
			id = cidExposure
		}
		if _, ok := have[id]; !ok {
			return fmt.Errorf("%w: no exposure control", ErrNegotiation)
		}
		if err := set("exposure", id, c.o.Exposure); err != nil {
			return err
		}
	}
	if c.o.Gain != 0 {
		if _, ok := have[cidAutogain]; ok {
			if err := dev.SetControl(cidAutogain, 0); err != nil {
				return fmt.Errorf("manual gain: %w", err)
			}
		}
		if _, ok := have[cidGain]; !ok {
			return fmt.Errorf("%w: no gain control", ErrNegotiation)
		}
		return set("gain", cidGain, c.o.Gain)
	}
	return nil
}

// fits reports whether a frame size entry allows w x h.
func fits(w, h int) func(webcam.FrameSize) bool {
	return func(s webcam.FrameSize) bool {
		in := func(v int, lo, hi, step uint32) bool {
			if uint32(v) < lo || uint32(v) > hi {
				return false
			}
			return step == 0 || (uint32(v)-lo)%step == 0
		}
		return in(w, s.MinWidth, s.MaxWidth, s.StepWidth) && in(h, s.MinHeight, s.MaxHeight, s.StepHeight)
	}
}

func names(m map[webcam.PixelFormat]string) string {
	var s []string
	for f := range m {
		s = append(s, fourcc(f))
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// Halt implements camera.Camera: it stops streaming and closes the device.
// The next Capture opens it again at once.
func (c *Camera) Halt() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retryAt = time.Time{}
	if c.dev == nil {
		return nil
	}
	return c.stop()
}

// stop stops streaming and closes the device; c.mu is held.
func (c *Camera) stop() error {
	err := errors.Join(c.dev.StopStreaming(), c.dev.Close())
	c.dev = nil
	if err != nil {
		return fmt.Errorf("v4l2: %s: %w", c.o.Path, err)
	}
	return nil
}
