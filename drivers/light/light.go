// Package light defines the 850 nm illumination that is strobed in step with
// camera frames: lit and unlit frames of the same instant are what liveness
// reads.
package light

import "errors"

// ErrSafetyLimit reports that the LEDs refused to light because a safety
// limit (longest on-time, duty cycle) was reached. It is not a fault: the
// caller waits and strobes again.
var ErrSafetyLimit = errors.New("light: safety limit reached")

// Light is a bank of NIR LEDs.
type Light interface {
	// Set turns the LEDs on or off. Implementations enforce their own safety
	// limits (duty cycle, longest on-time) and return an error instead of
	// exceeding them.
	Set(on bool) error
	// Halt turns the LEDs off.
	Halt() error
}
