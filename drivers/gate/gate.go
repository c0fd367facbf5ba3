// Package gate defines the entry gate (a relay and a door-state input).
package gate

import "context"

// Gate opens a door or turnstile for one person.
type Gate interface {
	// Open pulses the relay; it returns once the pulse has ended.
	Open(ctx context.Context) error
	// Halt releases the relay.
	Halt() error
}

// Door is implemented by gates with a door-state contact.
type Door interface {
	// DoorOpen reports whether the door stands open now.
	DoorOpen() (bool, error)
}
