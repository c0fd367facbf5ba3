package evdev_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/palmd/palmd/drivers/keypad/evdev"
)

func Example() {
	// On a kiosk: evdev.Open("/dev/input/event0"). Here: one recorded press
	// of KEY_KP5 (code 76) in struct input_event's 24-byte layout.
	var rec bytes.Buffer
	for _, v := range []int32{1, 0} { // press, release
		binary.Write(&rec, binary.NativeEndian, struct {
			Sec, Usec  int64
			Type, Code uint16
			Value      int32
		}{Type: 1, Code: 76, Value: v})
	}
	k := evdev.New(&rec)
	defer k.Halt()
	key, err := k.Next(context.Background())
	fmt.Println(string(rune(key)), err)
	// Output: 5 <nil>
}
