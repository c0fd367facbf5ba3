package config

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRPiExampleParses(t *testing.T) {
	c, err := Load("testdata/rpi.json")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Linux
	if c.Hardware != "linux" || l.Camera.Device != "/dev/video0" || l.Camera.Format != "Y10P" ||
		l.Camera.Width != 1280 || l.Camera.Height != 800 || l.Camera.Exposure != 40 {
		t.Errorf("camera = %+v", l.Camera)
	}
	if !slices.Equal(l.Light.Pins, []string{"GPIO17", "GPIO23"}) || l.Light.PWM != "" || l.Light.MaxOnMS != 50 {
		t.Errorf("light = %+v", l.Light)
	}
	if l.Presence.Bus != "/dev/i2c-1" || l.Presence.Address != 0x29 {
		t.Errorf("presence = %+v", l.Presence)
	}
	if l.CardReader.Port != "/dev/ttyUSB0" || l.CardReader.Baud != 9600 {
		t.Errorf("card reader = %+v", l.CardReader)
	}
	if l.Display.Framebuffer != "/dev/fb0" || l.Keypad.Device != "/dev/input/event0" {
		t.Errorf("display/keypad = %+v %+v", l.Display, l.Keypad)
	}
	if l.Gate.Relay != "GPIO27" || l.Gate.Door != "GPIO22" || l.Gate.PulseMS != 800 {
		t.Errorf("gate = %+v", l.Gate)
	}
}

func TestLinuxDefaultsFillOmittedFields(t *testing.T) {
	c, err := Parse([]byte(`{"hardware":"linux","linux":{"camera":{"device":"/dev/video2"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultLinux()
	want.Camera.Device = "/dev/video2"
	if c.Linux.Camera != want.Camera || c.Linux.Gate != want.Gate {
		t.Errorf("got %+v, want %+v", c.Linux, want)
	}
}

func TestLinuxValidateBadFields(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Linux)
		want   string
	}{
		{"camera device", func(l *Linux) { l.Camera.Device = "video0" }, `config: linux.camera.device: "video0": must be a /dev path`},
		{"camera dotdot", func(l *Linux) { l.Camera.Device = "/dev/../etc/passwd" }, "linux.camera.device: "},
		{"camera width", func(l *Linux) { l.Camera.Width = 0 }, "linux.camera.width: 0: must be between"},
		{"camera fps", func(l *Linux) { l.Camera.FPS = 1000 }, "linux.camera.fps: 1000"},
		{"camera format", func(l *Linux) { l.Camera.Format = "MJPG" }, `linux.camera.format: "MJPG": want one of`},
		{"camera timeout", func(l *Linux) { l.Camera.FrameTimeoutMS = 0 }, "linux.camera.frame_timeout_ms"},
		{"negative gain", func(l *Linux) { l.Camera.Gain = -1 }, "linux.camera.gain"},
		{"no LED pins", func(l *Linux) { l.Light.Pins = nil }, "linux.light.pins: must name at least one"},
		{"blank LED pin", func(l *Linux) { l.Light.Pins = []string{""} }, "linux.light.pins: must name a GPIO pin"},
		{"max on", func(l *Linux) { l.Light.MaxOnMS = 5000 }, "linux.light.max_on_ms"},
		{"duty", func(l *Linux) { l.Light.MaxDutyPercent = 101 }, "linux.light.max_duty_percent"},
		{"window shorter than on-time", func(l *Linux) { l.Light.WindowMS = 10 }, "linux.light.window_ms"},
		{"tof bus", func(l *Linux) { l.Presence.Bus = "I2C1" }, "linux.presence.bus"},
		{"tof address", func(l *Linux) { l.Presence.Address = 0x80 }, "linux.presence.address: 128"},
		{"tof range", func(l *Linux) { l.Presence.FarMM = l.Presence.NearMM }, "linux.presence.far_mm"},
		{"card port", func(l *Linux) { l.CardReader.Port = "" }, "linux.card_reader.port"},
		{"card baud", func(l *Linux) { l.CardReader.Baud = 9601 }, "linux.card_reader.baud: 9601: not a standard baud rate"},
		{"framebuffer", func(l *Linux) { l.Display.Framebuffer = "fb0" }, "linux.display.framebuffer"},
		{"keypad", func(l *Linux) { l.Keypad.Device = "/dev/" }, "linux.keypad.device"},
		{"relay", func(l *Linux) { l.Gate.Relay = "" }, "linux.gate.relay: must name a GPIO pin"},
		{"door", func(l *Linux) { l.Gate.Door = "GPIO 22" }, "linux.gate.door"},
		{"pulse", func(l *Linux) { l.Gate.PulseMS = 0 }, "linux.gate.pulse_ms"},
	}
	if err := DefaultLinux().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := DefaultLinux()
			tt.modify(&l)
			err := l.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "config: linux.") {
				t.Errorf("error %q does not start with the field's JSON path", err)
			}
		})
	}
}

func TestLinuxBadFieldThroughParse(t *testing.T) {
	b, err := os.ReadFile("testdata/rpi.json")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"/dev/fb0"`, `"fb0"`, 1)
	if _, err := Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "config: linux.display.framebuffer") {
		t.Errorf("Parse = %v, want the framebuffer field named", err)
	}
	// A sim kiosk does not validate the Linux section.
	if _, err := Parse([]byte(`{"hardware":"sim","linux":{"display":{"framebuffer":"fb0"}}}`)); err != nil {
		t.Errorf("sim config with a bad linux section: %v", err)
	}
}
