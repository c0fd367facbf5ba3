package firmware

import (
	"errors"

	"github.com/palmd/palmd/drivers/camera"
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/gate"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/drivers/presence"
)

// Devices is the kiosk's hardware as the firmware sees it: one interface per
// part. cmd/palmd fills it with the Linux drivers or the simulator.
type Devices struct {
	Camera   camera.Camera
	Light    light.Light
	Presence presence.Sensor
	Display  display.Display
	Cards    cardreader.Reader
	Keypad   keypad.Keypad
	Gate     gate.Gate
}

// Halt returns every part to its inert state: LEDs off, capture stopped,
// relay released, screen blank. It halts all parts even when some fail.
func (d Devices) Halt() error {
	type halter interface{ Halt() error }
	var errs []error
	for _, h := range []halter{d.Light, d.Camera, d.Gate, d.Presence, d.Cards, d.Keypad, d.Display} {
		if h != nil {
			errs = append(errs, h.Halt())
		}
	}
	return errors.Join(errs...)
}
