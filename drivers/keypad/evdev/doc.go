// Package evdev reads key presses from a Linux input device
// (/dev/input/eventN): a numeric keypad, a phone-style keypad or capacitive
// touch keys whose controller reports key codes.
//
// The device delivers struct input_event records. Only key presses (EV_KEY
// with value 1) count; releases, auto-repeat, EV_SYN, EV_MSC and unknown codes
// are skipped. Digits come from the main row, the numeric keypad and the
// KEY_NUMERIC_* phone keys; Enter, KP Enter and OK confirm; Esc and Cancel
// cancel; Backspace deletes a digit; Delete starts the delete-my-data flow.
//
// Open grabs the device (EVIOCGRAB) so that key presses do not also reach a
// console. A touchscreen reporting absolute positions is not handled here.
package evdev
