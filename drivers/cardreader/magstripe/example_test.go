package magstripe_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/palmd/palmd/drivers/cardreader/magstripe"
)

func Example() {
	// On a kiosk: r, err := magstripe.Open("/dev/ttyUSB0", 9600). Here the
	// reader's output comes from a string.
	r := magstripe.New(strings.NewReader(";5555555555554444=27081010000000000?4\r\nCARD OUT\r\n"))
	defer r.Halt()
	for range 2 {
		ev, err := r.Next(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ev.Kind, ev.Card.PAN, ev.Card.Expiry)
		ev.Card.PAN.Zero()
	}
	// Output:
	// inserted •••• 4444 2708
	// removed (no card)
}
