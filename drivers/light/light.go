// Package light defines the 850 nm illumination that is strobed in step with
// camera frames: lit and unlit frames of the same instant are what liveness
// reads.
package light

import "errors"

// ErrSafetyLimit reports that the LEDs refused to light because a safety
// limit (longest on-time, duty cycle) was reached. It is not a fault: the
// caller waits and strobes again.
var ErrSafetyLimit = errors.New("light: safety limit reached")

// Banks is a set of LED banks: the kiosk's LEDs sit in two banks, left and
// right of the camera, lit one at a time, together or not at all in a
// pattern drawn at random per capture (challenge-response: replayed or
// projected light cannot follow it; lit separately, the banks show the
// surface's shape).
type Banks uint8

// The banks.
const (
	BankLeft  Banks = 1 << iota // the bank left of the camera
	BankRight                   // the bank right of the camera
	BankBoth  = BankLeft | BankRight
)

// Light is the kiosk's NIR LEDs.
type Light interface {
	// Set turns every bank on or off. Implementations enforce their own
	// safety limits (duty cycle, longest on-time) and return an error
	// instead of exceeding them.
	Set(on bool) error
	// SetBanks lights exactly the banks in b (none: off), with the same
	// safety limits as Set. A light with one bank lights it for any b.
	SetBanks(b Banks) error
	// Halt turns the LEDs off.
	Halt() error
}
