// Package gate defines the entry gate (a relay and a door-state input).
package gate

import (
	"context"
	"errors"
)

// Gate opens a door or turnstile for one person.
type Gate interface {
	// Open pulses the relay; it returns once the pulse has ended.
	Open(ctx context.Context) error
	// Halt releases the relay.
	Halt() error
}

// ErrNoDoor reports a gate installed without a door-state contact.
var ErrNoDoor = errors.New("gate: no door contact")

// Door is implemented by gates that can have a door-state contact.
type Door interface {
	// DoorOpen reports whether the door stands open now, or ErrNoDoor.
	DoorOpen() (bool, error)
}
