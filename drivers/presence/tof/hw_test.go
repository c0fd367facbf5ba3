package tof

import (
	"context"
	"os"
	"testing"

	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"
)

// TestHardwareSensor reads a real VL53L0X when PALMD_HW_TOF_BUS names its
// I²C bus (e.g. /dev/i2c-1).
func TestHardwareSensor(t *testing.T) {
	name := os.Getenv("PALMD_HW_TOF_BUS")
	if name == "" {
		t.Skip("no ToF rig (set PALMD_HW_TOF_BUS)")
	}
	if _, err := host.Init(); err != nil {
		t.Fatal(err)
	}
	bus, err := i2creg.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	s, err := New(bus, DefaultAddress, Options{Near: 40, Far: 250})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Halt()
	for i := range 10 {
		r, err := s.Read(context.Background())
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		t.Logf("read %d: %+v", i, r)
	}
}
