package config

import (
	"fmt"
	"slices"
	"strings"
)

// Linux names the kiosk's real devices for --hw=linux: every device path, GPIO
// pin and bus. GPIO pins and I²C buses are periph.io names ("GPIO17",
// "/dev/i2c-1"). Durations are whole milliseconds.
type Linux struct {
	Camera     LinuxCamera     `json:"camera"`
	Light      LinuxLight      `json:"light"`
	Presence   LinuxPresence   `json:"presence"`
	CardReader LinuxCardReader `json:"card_reader"`
	Display    LinuxDisplay    `json:"display"`
	Keypad     LinuxKeypad     `json:"keypad"`
	Gate       LinuxGate       `json:"gate"`
}

// LinuxCamera is the V4L2 NIR camera.
type LinuxCamera struct {
	// Device is the V4L2 capture node, e.g. "/dev/video0".
	Device string `json:"device"`
	// Width, Height and FPS are the capture mode asked of the sensor.
	Width  int `json:"width"`
	Height int `json:"height"`
	FPS    int `json:"fps"`
	// Format is the pixel format: "auto" (the best grey format the camera
	// offers), or one of "GREY", "Y10", "Y10P", "Y16", "YUYV".
	Format string `json:"format"`
	// Exposure (V4L2 exposure_time_absolute, 100 µs units) and Gain; 0
	// leaves the camera's own setting.
	Exposure int `json:"exposure"`
	Gain     int `json:"gain"`
	// FrameTimeoutMS is how long Capture waits for a frame before it
	// declares the camera wedged.
	FrameTimeoutMS int `json:"frame_timeout_ms"`
}

// LinuxLight is the 850 nm LED bank and its eye-safety limits.
type LinuxLight struct {
	// Pins are GPIO outputs that switch LED banks (active high).
	Pins []string `json:"pins"`
	// PWM is an optional PWM-capable pin that sets brightness while lit;
	// PWMHz and DutyPercent are its frequency and duty.
	PWM         string `json:"pwm"`
	PWMHz       int    `json:"pwm_hz"`
	DutyPercent int    `json:"duty_percent"`
	// MaxOnMS is the longest the LEDs may stay on at a stretch.
	MaxOnMS int `json:"max_on_ms"`
	// MaxDutyPercent is the largest share of any WindowMS the LEDs may be
	// on. The strobe lights them for the lit frame of each pair only, so
	// under half the time; the default 60 leaves room for frame jitter.
	MaxDutyPercent int `json:"max_duty_percent"`
	WindowMS       int `json:"window_ms"`
}

// LinuxPresence is the time-of-flight presence sensor (VL53L0X class).
type LinuxPresence struct {
	// Bus is the I²C bus, e.g. "/dev/i2c-1".
	Bus string `json:"bus"`
	// Address is the 7-bit I²C address (0x29 for a VL53L0X).
	Address int `json:"address"`
	// NearMM and FarMM bound the capture volume; a hand between them is
	// present. The defaults are the volume the quality gate can use
	// (vision/quality NearMM and FarMM).
	NearMM int `json:"near_mm"`
	FarMM  int `json:"far_mm"`
	// DebounceMS is how long a reading must hold before it is reported.
	DebounceMS int `json:"debounce_ms"`
}

// LinuxCardReader is the serial magstripe reader.
type LinuxCardReader struct {
	// Port is the serial device, e.g. "/dev/ttyUSB0".
	Port string `json:"port"`
	Baud int    `json:"baud"`
}

// LinuxDisplay is the framebuffer screen.
type LinuxDisplay struct {
	// Framebuffer is the fbdev node, e.g. "/dev/fb0".
	Framebuffer string `json:"framebuffer"`
}

// LinuxKeypad is the evdev keypad or touch-key panel.
type LinuxKeypad struct {
	// Device is the input event node, e.g. "/dev/input/event0".
	Device string `json:"device"`
}

// LinuxGate is the gate relay and door contact.
type LinuxGate struct {
	// Relay is the GPIO output driving the relay (active high).
	Relay string `json:"relay"`
	// Door is an optional GPIO input that reads high while the door is open.
	Door string `json:"door"`
	// PulseMS is how long the relay is held to open the gate.
	PulseMS int `json:"pulse_ms"`
}

// DefaultLinux returns the settings a field left at zero falls back to, with
// the device paths of a Raspberry-Pi-class board.
func DefaultLinux() Linux {
	return Linux{
		Camera: LinuxCamera{Device: "/dev/video0", Width: 1280, Height: 800, FPS: 60, Format: "auto",
			FrameTimeoutMS: 500},
		Light: LinuxLight{Pins: []string{"GPIO17"}, MaxOnMS: 100, MaxDutyPercent: 60, WindowMS: 1000,
			PWMHz: 20000, DutyPercent: 100},
		Presence:   LinuxPresence{Bus: "/dev/i2c-1", Address: 0x29, NearMM: 70, FarMM: 260, DebounceMS: 100},
		CardReader: LinuxCardReader{Port: "/dev/ttyUSB0", Baud: 9600},
		Display:    LinuxDisplay{Framebuffer: "/dev/fb0"},
		Keypad:     LinuxKeypad{Device: "/dev/input/event0"},
		Gate:       LinuxGate{Relay: "GPIO27", Door: "GPIO22", PulseMS: 800},
	}
}

var cameraFormats = []string{"auto", "GREY", "Y10", "Y10P", "Y16", "YUYV"}

var bauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}

// Validate reports the first field that is wrong, by its JSON path.
func (l Linux) Validate() error {
	if msg := l.check(); msg != "" {
		return fmt.Errorf("config: linux.%s", msg)
	}
	return nil
}

// check returns "field.path: what is wrong" for the first bad field, or "".
func (l Linux) check() string {
	c := l.Camera
	checks := []struct {
		path string
		err  string
	}{
		{"camera.device", devPath(c.Device)},
		{"camera.width", between(c.Width, 64, 4096)},
		{"camera.height", between(c.Height, 64, 4096)},
		{"camera.fps", between(c.FPS, 1, 240)},
		{"camera.format", oneOf(c.Format, cameraFormats)},
		{"camera.exposure", between(c.Exposure, 0, 100000)},
		{"camera.gain", between(c.Gain, 0, 10000)},
		{"camera.frame_timeout_ms", between(c.FrameTimeoutMS, 10, 10000)},
		{"light.pins", pins(l.Light.Pins, l.Light.PWM)},
		{"light.pwm", optionalPin(l.Light.PWM)},
		{"light.pwm_hz", between(l.Light.PWMHz, 100, 1000000)},
		{"light.duty_percent", between(l.Light.DutyPercent, 1, 100)},
		{"light.max_on_ms", between(l.Light.MaxOnMS, 1, 1000)},
		{"light.max_duty_percent", between(l.Light.MaxDutyPercent, 1, 100)},
		{"light.window_ms", between(l.Light.WindowMS, l.Light.MaxOnMS, 60000)},
		{"presence.bus", devPath(l.Presence.Bus)},
		{"presence.address", between(l.Presence.Address, 0x08, 0x77)},
		{"presence.near_mm", between(l.Presence.NearMM, 0, 2000)},
		{"presence.far_mm", between(l.Presence.FarMM, l.Presence.NearMM+1, 2000)},
		{"presence.debounce_ms", between(l.Presence.DebounceMS, 0, 5000)},
		{"card_reader.port", devPath(l.CardReader.Port)},
		{"card_reader.baud", baud(l.CardReader.Baud)},
		{"display.framebuffer", devPath(l.Display.Framebuffer)},
		{"keypad.device", devPath(l.Keypad.Device)},
		{"gate.relay", pin(l.Gate.Relay)},
		{"gate.door", optionalPin(l.Gate.Door)},
		{"gate.pulse_ms", between(l.Gate.PulseMS, 50, 10000)},
	}
	for _, c := range checks {
		if c.err != "" {
			return c.path + ": " + c.err
		}
	}
	return ""
}

func devPath(p string) string {
	if !strings.HasPrefix(p, "/dev/") || strings.Contains(p, "..") || len(p) == len("/dev/") {
		return fmt.Sprintf("%q: must be a /dev path", p)
	}
	return ""
}

func between(v, lo, hi int) string {
	if v < lo || v > hi {
		return fmt.Sprintf("%d: must be between %d and %d", v, lo, hi)
	}
	return ""
}

func oneOf(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return ""
	}
	return fmt.Sprintf("%q: want one of %s", v, strings.Join(allowed, ", "))
}

func baud(b int) string {
	if slices.Contains(bauds, b) {
		return ""
	}
	return fmt.Sprintf("%d: not a standard baud rate (want one of %v)", b, bauds)
}

func pin(name string) string {
	if name == "" {
		return "must name a GPIO pin"
	}
	if strings.ContainsAny(name, " \t\n") {
		return fmt.Sprintf("%q: not a pin name", name)
	}
	return ""
}

func optionalPin(name string) string {
	if name == "" {
		return ""
	}
	return pin(name)
}

func pins(names []string, pwm string) string {
	if len(names) == 0 && pwm == "" {
		return "must name at least one GPIO pin (or set light.pwm)"
	}
	for _, n := range names {
		if err := pin(n); err != "" {
			return err
		}
	}
	return ""
}
