package main

import (
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware"
)

// simDevices wires every simulated part of w.
func simDevices(w *sim.World) firmware.Devices {
	return firmware.Devices{
		Camera:   w.Camera(),
		Light:    w.Light(),
		Presence: w.Presence(),
		Display:  w.Display(),
		Cards:    w.Cards(),
		Keypad:   w.Keypad(),
		Gate:     w.Gate(),
	}
}
