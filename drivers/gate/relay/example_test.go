package relay_test

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/palmd/palmd/drivers/gate/relay"
)

func Example() {
	// On a kiosk the pins come from gpioreg.ByName after host.Init.
	relayPin := &gpiotest.Pin{N: "GPIO27"}
	door := &gpiotest.Pin{N: "GPIO22"}
	g, err := relay.New(relayPin, door, 10*time.Millisecond, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Halt()
	if err := g.Open(context.Background()); err != nil {
		fmt.Println(err)
	}
	open, _ := g.DoorOpen()
	fmt.Println(relayPin.Read(), open)
	// Output: Low false
}
