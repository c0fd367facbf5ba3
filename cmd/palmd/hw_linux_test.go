//go:build sim

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blackjack/webcam"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"

	"github.com/palmd/palmd/drivers/camera/v4l2"
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/cardreader/magstripe/magstripetest"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/display/fbdev"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/vision/synth"
)

// linuxRig is a fake kiosk for the Linux drivers: every part is a fake at
// the lowest level the drivers reach. Its methods play the world: a hand
// hovering, a card swiped, keys pressed.
type linuxRig struct {
	// LED and LEDRight are the left and right LED banks.
	LED, LEDRight, Relay, Door *gpiotest.Pin
	camera                     *fakeV4L2
	tof                        *fakeToF
	cardsMaster                *os.File // the card reader's end of the pty
	keysWriter                 *os.File // the keypad's end of the event FIFO
	fbPath                     string
	fbGeometry                 fbdev.Geometry
}

// fakeLinuxRig builds the fake rig and the configuration and seams that
// make linuxDevices use it. Everything is released when t ends. Paths are
// under /dev/shm so the configuration validates (it wants /dev paths).
// rigs numbers the fake rigs, so that each registers its own GPIO pins.
var rigs atomic.Int32

func fakeLinuxRig(t testing.TB) (config.Linux, seams, *linuxRig) {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "palmd-rig-")
	if err != nil {
		t.Skipf("no /dev/shm for the fake devices: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	id := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + strconv.Itoa(int(rigs.Add(1)))
	r := &linuxRig{
		LED:      &gpiotest.Pin{N: id + "_LED", L: gpio.High},
		LEDRight: &gpiotest.Pin{N: id + "_LED_RIGHT", L: gpio.High},
		Relay:    &gpiotest.Pin{N: id + "_RELAY", L: gpio.High},
		Door:     &gpiotest.Pin{N: id + "_DOOR"},
		tof:      &fakeToF{},
	}
	r.camera = &fakeV4L2{left: r.LED, right: r.LEDRight, frame: make([]byte, synth.Width*synth.Height)}
	for _, p := range []*gpiotest.Pin{r.LED, r.LEDRight, r.Relay, r.Door} {
		if err := gpioreg.Register(p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gpioreg.Unregister(p.N) })
	}
	bus := "/dev/i2c-" + id
	if err := i2creg.Register(bus, nil, -1, func() (i2c.BusCloser, error) { return r.tof, nil }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { i2creg.Unregister(bus) })

	master, slave := magstripetest.OpenPTY(t)
	r.cardsMaster = master

	fifo := filepath.Join(dir, "event0")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Held open read-write, so the driver's open does not wait for a writer
	// and never sees the end of the stream.
	if r.keysWriter, err = os.OpenFile(fifo, os.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.keysWriter.Close() })

	r.fbPath = filepath.Join(dir, "fb0")
	r.fbGeometry = fbdev.Geometry{Width: 800, Height: 480, Stride: 800 * 4, Format: fbdev.XRGB8888}

	cfg := config.DefaultLinux()
	cfg.Camera = config.LinuxCamera{Device: "/dev/video0", Width: synth.Width, Height: synth.Height, FPS: 60,
		Format: "auto", Exposure: 40, Gain: 8, FrameTimeoutMS: 500}
	cfg.Light.Pins, cfg.Light.PWM = []string{r.LED.N, r.LEDRight.N}, ""
	// The fake camera renders each frame while the LEDs are on, far slower
	// than a sensor exposes (more so under -race): keep the budget generous.
	cfg.Light.MaxOnMS, cfg.Light.MaxDutyPercent = 1000, 100
	cfg.Presence.Bus = bus
	cfg.Presence.DebounceMS = 0 // the hand is there at once: no real-time waits in tests
	cfg.CardReader = config.LinuxCardReader{Port: slave, Baud: 9600}
	cfg.Display.Framebuffer = r.fbPath
	cfg.Keypad.Device = fifo
	cfg.Gate = config.LinuxGate{Relay: r.Relay.N, Door: r.Door.N, PulseMS: 50}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("rig configuration: %v", err)
	}

	s := seams{
		hostInit:   func() error { return nil },
		openCamera: r.camera.open,
		openDisplay: func(path string) (display.Display, io.Closer, error) {
			return openFileFramebuffer(path, r.fbGeometry)
		},
	}
	return cfg, s, r
}

// openFileFramebuffer maps a file laid out as g as the framebuffer.
func openFileFramebuffer(path string, g fbdev.Geometry) (display.Display, io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	size := g.Stride * g.Height
	if err := f.Truncate(int64(size)); err != nil {
		return nil, nil, err
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	fb, err := fbdev.New(mem, g)
	if err != nil {
		unix.Munmap(mem)
		return nil, nil, err
	}
	return fb, closerFunc(func() error { fb.Close(); return unix.Munmap(mem) }), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// Hover puts a synthetic hand (or attack) over the scanner.
func (r *linuxRig) Hover(c synth.Capture) {
	s := synth.NewScene(c)
	r.camera.mu.Lock()
	r.camera.scene, r.camera.n = s, 0
	r.camera.mu.Unlock()
	r.tof.setDistance(s.DistanceMM())
}

// Withdraw takes the hand away.
func (r *linuxRig) Withdraw() {
	r.camera.mu.Lock()
	r.camera.scene = nil
	r.camera.mu.Unlock()
	r.tof.setDistance(0)
}

// Rehover takes the hand away until the presence sensor has read the
// empty range a few times, then hovers c: a person lifting the hand and
// hovering it again, as an enrolment asks between its captures.
func (r *linuxRig) Rehover(c synth.Capture) {
	r.Withdraw()
	for from := r.tof.readings(); r.tof.readings() < from+3; {
		time.Sleep(time.Millisecond)
	}
	r.Hover(c)
}

// Swipe sends a line from the card reader, e.g. a track-2 line.
func (r *linuxRig) Swipe(t testing.TB, line string) {
	t.Helper()
	if _, err := r.cardsMaster.WriteString(line + "\r\n"); err != nil {
		t.Fatal(err)
	}
}

// Press sends key presses (Linux key codes) as input events.
func (r *linuxRig) Press(t testing.TB, codes ...uint16) {
	t.Helper()
	var b bytes.Buffer
	for _, c := range codes {
		for _, v := range []int32{1, 0} {
			binary.Write(&b, binary.NativeEndian, struct {
				Sec, Usec  int64
				Type, Code uint16
				Value      int32
			}{Type: 1, Code: c, Value: v})
		}
	}
	if _, err := r.keysWriter.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// Framebuffer reads the screen back from the framebuffer file.
func (r *linuxRig) Framebuffer(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(r.fbPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	_ v4l2.Device   = (*fakeV4L2)(nil)
	_ i2c.BusCloser = (*fakeToF)(nil)
)

// fakeV4L2 is a GREY camera at synth's 1280x800 showing the rig's scene,
// lit by the banks whose LED pins are high. It implements v4l2.Device.
type fakeV4L2 struct {
	left, right *gpiotest.Pin

	mu        sync.Mutex
	scene     *synth.Scene
	n         int // frames since the hand arrived
	frame     []byte
	opens     int
	streaming bool
	broken    bool // every open fails
	set       map[webcam.ControlID]int32
}

func (c *fakeV4L2) open(string) (v4l2.Device, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opens++
	if c.broken {
		return nil, unix.ENODEV
	}
	return c, nil
}

func (c *fakeV4L2) GetSupportedFormats() map[webcam.PixelFormat]string {
	return map[webcam.PixelFormat]string{v4l2.GREY: "Greyscale", v4l2.YUYV: "YUYV 4:2:2"}
}
func (c *fakeV4L2) GetSupportedFrameSizes(webcam.PixelFormat) []webcam.FrameSize {
	return []webcam.FrameSize{{MinWidth: synth.Width, MaxWidth: synth.Width, MinHeight: synth.Height, MaxHeight: synth.Height}}
}
func (c *fakeV4L2) SetImageFormat(f webcam.PixelFormat, w, h uint32) (webcam.PixelFormat, uint32, uint32, error) {
	if f != v4l2.GREY || w != synth.Width || h != synth.Height {
		return 0, 0, 0, unix.EINVAL
	}
	return f, w, h, nil
}
func (c *fakeV4L2) SetFramerate(float32) error { return nil }
func (c *fakeV4L2) GetControls() map[webcam.ControlID]webcam.Control {
	return map[webcam.ControlID]webcam.Control{
		0x009a0901: {Name: "Auto Exposure", Max: 3}, 0x009a0902: {Name: "Exposure Time, Absolute", Min: 1, Max: 5000},
		0x00980913: {Name: "Gain", Max: 255},
	}
}
func (c *fakeV4L2) SetControl(id webcam.ControlID, v int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set == nil {
		c.set = map[webcam.ControlID]int32{}
	}
	c.set[id] = v
	return nil
}
func (c *fakeV4L2) SetBufferCount(uint32) error { return nil }
func (c *fakeV4L2) StartStreaming() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streaming = true
	return nil
}
func (c *fakeV4L2) WaitForFrame(uint32) error { return nil }

// GetFrame renders the scene's next frame as the LED banks light it now,
// like drivers/sim's camera.
func (c *fakeV4L2) GetFrame() ([]byte, uint32, error) {
	var banks synth.Banks
	if c.left.Read() == gpio.High {
		banks |= synth.BankLeft
	}
	if c.right.Read() == gpio.High {
		banks |= synth.BankRight
	}
	lit := banks != 0
	c.mu.Lock()
	defer c.mu.Unlock()
	img := &image.Gray{Pix: c.frame, Stride: synth.Width, Rect: image.Rect(0, 0, synth.Width, synth.Height)}
	if c.scene == nil {
		base := byte(10)
		if lit {
			base = 18
		}
		for i := range c.frame {
			c.frame[i] = base
		}
	} else {
		c.scene.RenderFrame(img, c.n, banks)
		c.n++
	}
	return c.frame, 0, nil
}
func (c *fakeV4L2) ReleaseFrame(uint32) error { return nil }
func (c *fakeV4L2) StopStreaming() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streaming = false
	return nil
}
func (c *fakeV4L2) Close() error { return nil }

// fakeToF is a VL53L0X at the register level: it answers the reads the
// driver makes and ranges to the rig's hand. It implements i2c.BusCloser.
type fakeToF struct {
	mu    sync.Mutex
	mm    int // 0: nothing in range
	regs  [256]byte
	reads int // range readings taken
}

// readings returns how many range readings have been taken.
func (f *fakeToF) readings() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeToF) setDistance(mm int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mm = mm
}

func (f *fakeToF) String() string { return "fake VL53L0X bus" }
func (f *fakeToF) Tx(addr uint16, w, r []byte) error {
	if addr != 0x29 || len(w) == 0 {
		return fmt.Errorf("fake tof: transaction to %#x with %d bytes", addr, len(w))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(w) == 2 {
		f.regs[w[0]] = w[1]
		return nil
	}
	switch reg := w[0]; reg {
	case 0xC0:
		r[0] = 0xEE
	case 0x13:
		r[0] = 0x04 // a sample is ready
	case 0x14:
		clear(r)
		f.reads++
		mm := f.mm
		if mm == 0 {
			mm = 8190 // out of range
		}
		r[0] = 11 << 3
		r[10], r[11] = byte(mm>>8), byte(mm)
	default:
		copy(r, f.regs[reg:])
	}
	return nil
}
func (f *fakeToF) SetSpeed(physic.Frequency) error { return nil }
func (f *fakeToF) Close() error                    { return nil }

func TestLinuxDevicesOnFakeRig(t *testing.T) {
	cfg, s, rig := fakeLinuxRig(t)
	// The drivers' limits run on a fake clock: the fake camera renders far
	// slower than a sensor exposes (more so under -race on a loaded
	// machine), which must not trip the LEDs' eye-safety cut.
	clock := clockwork.NewFakeClock()
	s.clock = clock
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	devs, hw, err := linuxDevices(ctx, cfg, slog.New(slog.DiscardHandler), s)
	if err != nil {
		t.Fatal(err)
	}
	if rig.LED.Read() != gpio.Low || rig.Relay.Read() != gpio.Low {
		t.Fatal("LEDs or relay not driven off at start")
	}

	// Camera and LEDs: a hovering hand is brighter lit than unlit.
	rig.Hover(synth.Capture{Identity: synth.IdentityOf("ada"), Seed: 1})
	frame := image.NewGray(devs.Camera.Bounds())
	means := [2]int{}
	for i, lit := range []bool{false, true} {
		if err := devs.Light.Set(lit); err != nil {
			t.Fatal(err)
		}
		if err := devs.Camera.Capture(ctx, frame); err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, v := range frame.Pix {
			sum += int(v)
		}
		means[i] = sum / len(frame.Pix)
	}
	if err := devs.Light.Set(false); err != nil {
		t.Fatal(err)
	}
	if means[1] <= means[0] {
		t.Errorf("lit mean %d not above unlit mean %d: the strobe does not reach the camera", means[1], means[0])
	}
	if got := rig.camera.set[0x009a0902]; got != 40 {
		t.Errorf("exposure control = %d, want 40", got)
	}

	// Presence ranges to the hand.
	rd, err := devs.Presence.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := synth.NewScene(synth.Capture{Identity: synth.IdentityOf("ada"), Seed: 1}).DistanceMM(); !rd.Present || rd.MM != want {
		t.Errorf("presence %+v, want present at %d mm", rd, want)
	}

	// Display reaches the framebuffer.
	if err := devs.Display.Show(display.Screen{Name: "idle", Title: "Hello"}); err != nil {
		t.Fatal(err)
	}
	if fb := rig.Framebuffer(t); bytes.Count(fb, []byte{0}) == len(fb) {
		t.Error("the framebuffer stayed black")
	}

	// Card reader over the pty.
	rig.Swipe(t, ";5555555555554444=27081010000000000?4")
	ev, err := devs.Cards.Next(ctx)
	if err != nil || ev.Kind != cardreader.Inserted || ev.Card.PAN.Last4() != "4444" {
		t.Fatalf("card event %v %v, %v", ev.Kind, ev.Card.PAN, err)
	}
	ev.Card.PAN.Zero()

	// Keypad over the event FIFO: KEY_KP5, KEY_KPENTER.
	rig.Press(t, 76, 96)
	for _, want := range []keypad.Key{'5', keypad.Enter} {
		k, err := devs.Keypad.Next(ctx)
		if err != nil || k != want {
			t.Fatalf("key %q, %v; want %q", rune(k), err, rune(want))
		}
	}

	// Gate: the relay is energised for the pulse and released after it.
	opened := make(chan error, 1)
	go func() { opened <- devs.Gate.Open(ctx) }()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if rig.Relay.Read() != gpio.High {
		t.Error("relay not energised during the pulse")
	}
	clock.Advance(time.Duration(cfg.Gate.PulseMS) * time.Millisecond)
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if rig.Relay.Read() != gpio.Low {
		t.Error("relay still energised after Open")
	}

	// Close halts everything: LEDs off, screen black.
	if err := devs.Light.Set(true); err != nil {
		t.Fatal(err)
	}
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	if rig.LED.Read() != gpio.Low {
		t.Error("LEDs on after Close")
	}
	if rig.camera.streaming {
		t.Error("camera still streaming after Close")
	}
	fb := rig.Framebuffer(t)
	for i := 0; i < len(fb); i += 4 {
		if binary.NativeEndian.Uint32(fb[i:])&0xffffff != 0 {
			t.Fatalf("pixel %d not black after Close", i/4)
		}
	}
	if err := hw.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLinuxDevicesConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*config.Linux)
		want string
	}{
		{"unknown LED pin", func(c *config.Linux) { c.Light.Pins = []string{"NOPE"} }, `linux.light.pins: no GPIO pin "NOPE"`},
		{"unknown relay pin", func(c *config.Linux) { c.Gate.Relay = "NOPE" }, "linux.gate.relay"},
		{"unknown door pin", func(c *config.Linux) { c.Gate.Door = "NOPE" }, "linux.gate.door"},
		{"unknown bus", func(c *config.Linux) { c.Presence.Bus = "/dev/i2c-nope" }, "linux.presence.bus"},
		{"no card reader", func(c *config.Linux) { c.CardReader.Port = "/dev/ttyNOPE" }, "magstripe"},
		{"no keypad", func(c *config.Linux) { c.Keypad.Device = "/dev/input/nope" }, "evdev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, s, rig := fakeLinuxRig(t)
			tt.mod(&cfg)
			rig.LED.Out(gpio.High)
			_, _, err := linuxDevices(context.Background(), cfg, slog.New(slog.DiscardHandler), s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("linuxDevices = %v, want an error about %s", err, tt.want)
			}
			if tt.name != "unknown LED pin" && rig.LED.Read() != gpio.Low {
				t.Error("LEDs left on after a failed start")
			}
		})
	}
	_, s, _ := fakeLinuxRig(t)
	s.hostInit = func() error { return errors.New("no periph drivers") }
	if _, _, err := linuxDevices(context.Background(), config.DefaultLinux(), slog.New(slog.DiscardHandler), s); err == nil {
		t.Error("linuxDevices ignored a host.Init failure")
	}
}
