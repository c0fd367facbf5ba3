package main

// This file wires the Linux drivers. run.go and selftest.go call
//
//	linuxDevices(ctx, cfg.Linux, log, defaultSeams()) (firmware.Devices, io.Closer, error)
//
// which opens every part the configuration names. The returned Closer halts
// every part and releases what was opened (I²C bus, framebuffer mapping,
// serial port, input device); call it once the firmware has stopped.
//
// Tests replace the hardware at the seams (see hw_linux_test.go's
// fakeLinuxRig): a fake V4L2 device, a framebuffer in a file, gpiotest pins
// registered in gpioreg and a fake I²C bus registered in i2creg, a
// pseudo-terminal for the card reader and a FIFO of input events for the
// keypad.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/host/v3"

	"github.com/palmd/palmd/drivers/camera/v4l2"
	"github.com/palmd/palmd/drivers/cardreader/magstripe"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/display/fbdev"
	"github.com/palmd/palmd/drivers/gate/relay"
	"github.com/palmd/palmd/drivers/keypad/evdev"
	"github.com/palmd/palmd/drivers/light/nirled"
	"github.com/palmd/palmd/drivers/presence/tof"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/config"
)

// seams are where tests replace hardware access. GPIO pins and I²C buses
// are looked up in periph's registries (gpioreg, i2creg), where tests
// register fakes.
type seams struct {
	// hostInit loads periph's host drivers (host.Init).
	hostInit func() error
	// openCamera opens a V4L2 device; nil means the webcam library.
	openCamera func(path string) (v4l2.Device, error)
	// openDisplay opens the framebuffer; the Closer unmaps it.
	openDisplay func(path string) (display.Display, io.Closer, error)
}

// defaultSeams are the real hardware.
func defaultSeams() seams {
	return seams{
		hostInit: func() error { _, err := host.Init(); return err },
		openDisplay: func(path string) (display.Display, io.Closer, error) {
			fb, err := fbdev.Open(path)
			return fb, fb, err
		},
	}
}

// hardware is what linuxDevices opened; Close halts and releases it.
type hardware struct {
	devs    firmware.Devices
	closers []io.Closer // released in reverse order after the halt
	closed  bool
}

// Close halts every part and releases what was opened; later calls do
// nothing.
func (h *hardware) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	errs := []error{h.devs.Halt()}
	for i := len(h.closers) - 1; i >= 0; i-- {
		errs = append(errs, h.closers[i].Close())
	}
	return errors.Join(errs...)
}

// linuxDevices builds every Linux driver from cfg (validated already).
// Nothing blocks on a missing camera: it is opened at the first capture and
// reported unavailable until it appears.
func linuxDevices(ctx context.Context, cfg config.Linux, log *slog.Logger, s seams) (firmware.Devices, io.Closer, error) {
	if err := ctx.Err(); err != nil {
		return firmware.Devices{}, nil, err
	}
	if err := s.hostInit(); err != nil {
		return firmware.Devices{}, nil, fmt.Errorf("periph host: %w", err)
	}
	// Each part is assigned to h.devs only once it exists: a nil
	// *Driver in an interface would not be nil to Devices.Halt.
	h := &hardware{}
	fail := func(err error) (firmware.Devices, io.Closer, error) {
		return firmware.Devices{}, nil, errors.Join(err, h.Close())
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	// Light first: the LEDs are driven off at once.
	var banks []gpio.PinOut
	for _, name := range cfg.Light.Pins {
		p, err := pin("light.pins", name)
		if err != nil {
			return fail(err)
		}
		banks = append(banks, p)
	}
	var pwm gpio.PinOut
	if cfg.Light.PWM != "" {
		p, err := pin("light.pwm", cfg.Light.PWM)
		if err != nil {
			return fail(err)
		}
		pwm = p
	}
	led, err := nirled.New(banks, pwm, nirled.Options{
		MaxOn: ms(cfg.Light.MaxOnMS), MaxDuty: float64(cfg.Light.MaxDutyPercent) / 100, Window: ms(cfg.Light.WindowMS),
		Duty: gpio.DutyMax * gpio.Duty(cfg.Light.DutyPercent) / 100, Freq: physic.Frequency(cfg.Light.PWMHz) * physic.Hertz,
	})
	if err != nil {
		return fail(err)
	}
	h.devs.Light = led

	// The gate relay next, released at once.
	rp, err := pin("gate.relay", cfg.Gate.Relay)
	if err != nil {
		return fail(err)
	}
	var door gpio.PinIn
	if cfg.Gate.Door != "" {
		p, err := pin("gate.door", cfg.Gate.Door)
		if err != nil {
			return fail(err)
		}
		door = p
	}
	g, err := relay.New(rp, door, ms(cfg.Gate.PulseMS), nil)
	if err != nil {
		return fail(err)
	}
	h.devs.Gate = g

	bus, err := i2creg.Open(cfg.Presence.Bus)
	if err != nil {
		return fail(fmt.Errorf("linux.presence.bus: %w", err))
	}
	h.closers = append(h.closers, bus)
	sensor, err := tof.New(bus, uint16(cfg.Presence.Address), tof.Options{
		Near: cfg.Presence.NearMM, Far: cfg.Presence.FarMM, Debounce: ms(cfg.Presence.DebounceMS),
	})
	if err != nil {
		return fail(err)
	}
	h.devs.Presence = sensor

	cam, err := v4l2.New(v4l2.Options{
		Path: cfg.Camera.Device, Width: cfg.Camera.Width, Height: cfg.Camera.Height, FPS: cfg.Camera.FPS,
		Format: cfg.Camera.Format, Exposure: cfg.Camera.Exposure, Gain: cfg.Camera.Gain,
		FrameTimeout: ms(cfg.Camera.FrameTimeoutMS), Log: log, OpenDevice: s.openCamera,
	})
	if err != nil {
		return fail(err)
	}
	h.devs.Camera = cam

	disp, closeDisp, err := s.openDisplay(cfg.Display.Framebuffer)
	if err != nil {
		return fail(err)
	}
	h.devs.Display = disp
	h.closers = append(h.closers, closeDisp)

	cards, err := magstripe.Open(cfg.CardReader.Port, cfg.CardReader.Baud)
	if err != nil {
		return fail(err)
	}
	h.devs.Cards = cards
	keys, err := evdev.Open(cfg.Keypad.Device)
	if err != nil {
		return fail(err)
	}
	h.devs.Keypad = keys
	log.Info("linux hardware ready", "camera", cfg.Camera.Device, "framebuffer", cfg.Display.Framebuffer,
		"card_reader", cfg.CardReader.Port, "keypad", cfg.Keypad.Device, "tof_bus", cfg.Presence.Bus)
	return h.devs, h, nil
}

// pin finds a GPIO pin by name; field is its configuration path.
func pin(field, name string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("linux.%s: no GPIO pin %q", field, name)
	}
	return p, nil
}
