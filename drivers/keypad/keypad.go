// Package keypad defines the keypad (or touch keys) used for phone-number entry
// and confirm/cancel.
package keypad

import "context"

// Key is one key press: a digit '0'…'9' or one of the named keys.
type Key rune

// Named keys.
const (
	Enter     Key = '\n'
	Cancel    Key = 0x1b
	Backspace Key = '\b'
	// DeleteMyData starts the delete-my-data flow from the idle screen.
	DeleteMyData Key = 0x7f
)

// IsDigit reports whether k is '0'…'9'.
func (k Key) IsDigit() bool { return k >= '0' && k <= '9' }

// Keypad delivers key presses.
type Keypad interface {
	// Next blocks until a key is pressed or ctx is done.
	Next(ctx context.Context) (Key, error)
	Halt() error
}
