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

	"github.com/jonboulle/clockwork"
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
	// clock times the drivers' limits (LED eye safety, gate pulse, camera
	// frame timeout); nil means the real clock.
	clock clockwork.Clock
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

// linuxDevices builds every Linux driver from cfg (validated already). If
// any part cannot be opened it closes the others and returns every part's
// error. Nothing blocks on a missing camera: it is opened at the first
// capture and reported unavailable until it appears.
func linuxDevices(ctx context.Context, cfg config.Linux, log *slog.Logger, s seams) (firmware.Devices, io.Closer, error) {
	h, failed, err := openLinux(ctx, cfg, log, s)
	if err != nil {
		return firmware.Devices{}, nil, err
	}
	if len(failed) > 0 {
		var errs []error
		for _, part := range linuxParts {
			if err := failed[part]; err != nil {
				errs = append(errs, err)
			}
		}
		return firmware.Devices{}, nil, errors.Join(append(errs, h.Close())...)
	}
	log.Info("linux hardware ready", "camera", cfg.Camera.Device, "framebuffer", cfg.Display.Framebuffer,
		"card_reader", cfg.CardReader.Port, "keypad", cfg.Keypad.Device, "tof_bus", cfg.Presence.Bus)
	return h.devs, h, nil
}

// linuxParts are the parts in the order they are opened: the LEDs and the
// relay first, so that they are driven off at once.
var linuxParts = []string{firmware.PartLight, firmware.PartGate, firmware.PartPresence, firmware.PartCamera,
	firmware.PartDisplay, firmware.PartCards, firmware.PartKeypad}

// openLinux opens each part on its own: a part that fails is left nil in
// the devices and its error is kept by part name (firmware.Part*), so that
// the self-test can still test the others. err is set only when nothing
// could be tried.
func openLinux(ctx context.Context, cfg config.Linux, log *slog.Logger, s seams) (h *hardware, failed map[string]error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := s.hostInit(); err != nil {
		return nil, nil, fmt.Errorf("periph host: %w", err)
	}
	h = &hardware{}
	failed = map[string]error{}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// Each part is set in h.devs only once it exists: a nil *Driver in an
	// interface would not be nil to Devices.Halt.
	open := map[string]func() error{
		firmware.PartLight: func() error {
			var banks []gpio.PinOut
			for _, name := range cfg.Light.Pins {
				p, err := pin("light.pins", name)
				if err != nil {
					return err
				}
				banks = append(banks, p)
			}
			var pwm gpio.PinOut
			if cfg.Light.PWM != "" {
				p, err := pin("light.pwm", cfg.Light.PWM)
				if err != nil {
					return err
				}
				pwm = p
			}
			led, err := nirled.New(banks, pwm, nirled.Options{
				MaxOn: ms(cfg.Light.MaxOnMS), MaxDuty: float64(cfg.Light.MaxDutyPercent) / 100, Window: ms(cfg.Light.WindowMS),
				Clock: s.clock, Duty: gpio.DutyMax * gpio.Duty(cfg.Light.DutyPercent) / 100, Freq: physic.Frequency(cfg.Light.PWMHz) * physic.Hertz,
			})
			if err != nil {
				return err
			}
			h.devs.Light = led
			return nil
		},
		firmware.PartGate: func() error {
			rp, err := pin("gate.relay", cfg.Gate.Relay)
			if err != nil {
				return err
			}
			var door gpio.PinIn
			if cfg.Gate.Door != "" {
				p, err := pin("gate.door", cfg.Gate.Door)
				if err != nil {
					return err
				}
				door = p
			}
			g, err := relay.New(rp, door, ms(cfg.Gate.PulseMS), s.clock)
			if err != nil {
				return err
			}
			h.devs.Gate = g
			return nil
		},
		firmware.PartPresence: func() error {
			bus, err := i2creg.Open(cfg.Presence.Bus)
			if err != nil {
				return fmt.Errorf("linux.presence.bus: %w", err)
			}
			sensor, err := tof.New(bus, uint16(cfg.Presence.Address), tof.Options{
				Near: cfg.Presence.NearMM, Far: cfg.Presence.FarMM, Debounce: ms(cfg.Presence.DebounceMS),
			})
			if err != nil {
				return errors.Join(err, bus.Close())
			}
			h.closers = append(h.closers, bus)
			h.devs.Presence = sensor
			return nil
		},
		firmware.PartCamera: func() error {
			cam, err := v4l2.New(v4l2.Options{
				Path: cfg.Camera.Device, Width: cfg.Camera.Width, Height: cfg.Camera.Height, FPS: cfg.Camera.FPS,
				Format: cfg.Camera.Format, Exposure: cfg.Camera.Exposure, Gain: cfg.Camera.Gain,
				FrameTimeout: ms(cfg.Camera.FrameTimeoutMS), Clock: s.clock, Log: log, OpenDevice: s.openCamera,
			})
			if err != nil {
				return err
			}
			h.devs.Camera = cam
			return nil
		},
		firmware.PartDisplay: func() error {
			disp, closeDisp, err := s.openDisplay(cfg.Display.Framebuffer)
			if err != nil {
				return err
			}
			h.devs.Display = disp
			h.closers = append(h.closers, closeDisp)
			return nil
		},
		firmware.PartCards: func() error {
			cards, err := magstripe.Open(cfg.CardReader.Port, cfg.CardReader.Baud)
			if err != nil {
				return err
			}
			h.devs.Cards = cards
			return nil
		},
		firmware.PartKeypad: func() error {
			keys, err := evdev.Open(cfg.Keypad.Device)
			if err != nil {
				return err
			}
			h.devs.Keypad = keys
			return nil
		},
	}
	for _, part := range linuxParts {
		if err := open[part](); err != nil {
			failed[part] = err
		}
	}
	return h, failed, nil
}

// pin finds a GPIO pin by name; field is its configuration path.
func pin(field, name string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("linux.%s: no GPIO pin %q", field, name)
	}
	return p, nil
}
