package tof_test

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/palmd/palmd/drivers/presence/tof"
)

func Example() {
	// On a kiosk: host.Init(); bus, _ := i2creg.Open("/dev/i2c-1"). Here a
	// recorded exchange stands in for the sensor: init, start, one sample.
	w := func(b ...byte) i2ctest.IO { return i2ctest.IO{Addr: 0x29, W: b} }
	r := func(reg byte, b ...byte) i2ctest.IO { return i2ctest.IO{Addr: 0x29, W: []byte{reg}, R: b} }
	result := make([]byte, 12)
	result[0], result[11] = 11<<3, 150 // valid range, 150 mm
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		r(0xC0, 0xEE), r(0x89, 0x00), w(0x89, 0x01), w(0x88, 0x00), w(0x80, 0x01), w(0xFF, 0x01), w(0x00, 0x00),
		r(0x91, 0x3C), w(0x00, 0x01), w(0xFF, 0x00), w(0x80, 0x00), w(0x0A, 0x04), w(0x0B, 0x01),
		w(0x80, 0x01), w(0xFF, 0x01), w(0x00, 0x00), w(0x91, 0x3C), w(0x00, 0x01), w(0xFF, 0x00), w(0x80, 0x00), w(0x00, 0x02),
		r(0x13, 0x04), r(0x14, result...), w(0x0B, 0x01),
	}}
	s, err := tof.New(bus, tof.DefaultAddress, tof.Options{Near: 40, Far: 250})
	if err != nil {
		fmt.Println(err)
		return
	}
	rd, err := s.Read(context.Background())
	fmt.Println(rd.Present, rd.MM, err)
	// Output: true 150 <nil>
}
