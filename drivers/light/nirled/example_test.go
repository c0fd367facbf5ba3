package nirled_test

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/palmd/palmd/drivers/light/nirled"
)

func Example() {
	// On a kiosk the pin comes from gpioreg.ByName("GPIO17") after host.Init.
	pin := &gpiotest.Pin{N: "GPIO17"}
	led, err := nirled.New([]gpio.PinOut{pin}, nil, nirled.Options{
		MaxOn: 100 * time.Millisecond, MaxDuty: 0.5, Window: time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer led.Halt()
	_ = led.Set(true) // before a lit frame
	fmt.Println(pin.Read())
	_ = led.Set(false) // before an unlit frame
	fmt.Println(pin.Read())
	// Output:
	// High
	// Low
}
