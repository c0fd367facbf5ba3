package relay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/palmd/palmd/drivers/gate"
)

func newRelay(t *testing.T) (*Relay, *gpiotest.Pin, *gpiotest.Pin, *clockwork.FakeClock) {
	t.Helper()
	relayPin := &gpiotest.Pin{N: "GPIO27", L: gpio.High}
	door := &gpiotest.Pin{N: "GPIO22", P: gpio.PullUp}
	clock := clockwork.NewFakeClock()
	r, err := New(relayPin, door, 800*time.Millisecond, clock)
	if err != nil {
		t.Fatal(err)
	}
	if relayPin.Read() != gpio.Low {
		t.Fatal("New left the relay energised")
	}
	if door.Pull() != gpio.PullDown {
		t.Fatalf("door pull = %v, want down", door.Pull())
	}
	return r, relayPin, door, clock
}

func TestOpenPulses(t *testing.T) {
	r, pin, _, clock := newRelay(t)
	done := make(chan error, 1)
	go func() { done <- r.Open(context.Background()) }()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.High {
		t.Fatal("relay not energised during the pulse")
	}
	clock.Advance(799 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Open returned before the pulse ended: %v", err)
	default:
	}
	if pin.Read() != gpio.High {
		t.Fatal("relay released before the pulse ended")
	}
	clock.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.Low {
		t.Fatal("relay still energised after the pulse")
	}
}

func TestOpenCancelledReleases(t *testing.T) {
	r, pin, _, clock := newRelay(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Open(ctx) }()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Open = %v, want context.Canceled", err)
	}
	if pin.Read() != gpio.Low {
		t.Fatal("relay energised after a cancelled Open")
	}
}

func TestHaltReleasesMidPulse(t *testing.T) {
	r, pin, _, clock := newRelay(t)
	done := make(chan error, 1)
	go func() { done <- r.Open(context.Background()) }()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Halt(); err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.Low {
		t.Fatal("Halt did not release the relay")
	}
	clock.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDoor(t *testing.T) {
	r, _, door, _ := newRelay(t)
	for _, l := range []gpio.Level{gpio.High, gpio.Low} {
		door.Lock()
		door.L = l
		door.Unlock()
		open, err := r.DoorOpen()
		if err != nil || open != bool(l) {
			t.Errorf("door at %v: DoorOpen = %v, %v", l, open, err)
		}
	}
	noDoor, err := New(&gpiotest.Pin{N: "GPIO27"}, nil, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noDoor.DoorOpen(); !errors.Is(err, gate.ErrNoDoor) {
		t.Errorf("DoorOpen without a contact = %v, want ErrNoDoor", err)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, nil, time.Second, nil); err == nil {
		t.Error("New without a relay pin succeeded")
	}
	if _, err := New(&gpiotest.Pin{N: "GPIO27"}, nil, 0, nil); err == nil {
		t.Error("New with a zero pulse succeeded")
	}
}
