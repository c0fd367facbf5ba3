// Package keypad defines the keypad (or touch keys) used for phone-number entry
// and confirm/cancel.
package keypad

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnreadable reports input the keypad could not make sense of while it
// still works. Every such error of a Keypad wraps it; any other error means
// the keypad failed or went away.
var ErrUnreadable = errors.New("keypad: unreadable input")

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

// String names the key ("digit_5", "enter", "cancel", "backspace",
// "delete_my_data"), for a technician testing the keypad; a phone number
// typed is never logged key by key.
func (k Key) String() string {
	switch {
	case k.IsDigit():
		return "digit_" + string(rune(k))
	case k == Enter:
		return "enter"
	case k == Cancel:
		return "cancel"
	case k == Backspace:
		return "backspace"
	case k == DeleteMyData:
		return "delete_my_data"
	}
	return fmt.Sprintf("key_%#x", rune(k))
}

// IsDigit reports whether k is '0'…'9'.
func (k Key) IsDigit() bool { return k >= '0' && k <= '9' }

// Keypad delivers key presses.
type Keypad interface {
	// Next blocks until a key is pressed or ctx is done.
	Next(ctx context.Context) (Key, error)
	Halt() error
}
