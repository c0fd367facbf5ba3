package evdev

import (
	"encoding/binary"
	"fmt"

	"github.com/palmd/palmd/drivers/keypad"
)

// Sizes of struct input_event: a 64-bit timeval (64-bit kernels and 32-bit
// ones with 64-bit time), or a 32-bit one (older 32-bit ABIs).
const (
	eventSize64 = 24
	eventSize32 = 16
)

// Event types and key values of the input protocol.
const (
	evKey    = 0x01
	keyPress = 1
)

// event is the part of struct input_event the keypad reads.
type event struct {
	Type  uint16
	Code  uint16
	Value int32
}

// decode reads one event from b, which holds exactly one record of the
// given size in the machine's byte order. The timestamp is skipped.
func decode(b []byte, order binary.ByteOrder) (event, error) {
	if len(b) != eventSize64 && len(b) != eventSize32 {
		return event{}, fmt.Errorf("evdev: event of %d bytes, want %d or %d", len(b), eventSize64, eventSize32)
	}
	t := b[len(b)-8:]
	return event{
		Type:  order.Uint16(t[0:]),
		Code:  order.Uint16(t[2:]),
		Value: int32(order.Uint32(t[4:])),
	}, nil
}

// keys maps Linux key codes (linux/input-event-codes.h) to keypad keys.
var keys = map[uint16]keypad.Key{
	// KEY_1 … KEY_9, KEY_0 on the main row.
	2: '1', 3: '2', 4: '3', 5: '4', 6: '5', 7: '6', 8: '7', 9: '8', 10: '9', 11: '0',
	// KEY_KP0 … KEY_KP9.
	82: '0', 79: '1', 80: '2', 81: '3', 75: '4', 76: '5', 77: '6', 71: '7', 72: '8', 73: '9',
	// KEY_NUMERIC_0 … KEY_NUMERIC_9 of phone keypads.
	0x200: '0', 0x201: '1', 0x202: '2', 0x203: '3', 0x204: '4',
	0x205: '5', 0x206: '6', 0x207: '7', 0x208: '8', 0x209: '9',
	28:    keypad.Enter,        // KEY_ENTER
	96:    keypad.Enter,        // KEY_KPENTER
	0x160: keypad.Enter,        // KEY_OK
	1:     keypad.Cancel,       // KEY_ESC
	223:   keypad.Cancel,       // KEY_CANCEL
	14:    keypad.Backspace,    // KEY_BACKSPACE
	111:   keypad.DeleteMyData, // KEY_DELETE
}

// key reports the key an event presses, if it is a press of a known key.
func (e event) key() (keypad.Key, bool) {
	if e.Type != evKey || e.Value != keyPress {
		return 0, false
	}
	k, ok := keys[e.Code]
	return k, ok
}
