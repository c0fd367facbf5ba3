package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"

	"github.com/palmd/palmd/drivers/gate"
)

var (
	_ gate.Gate = (*Relay)(nil)
	_ gate.Door = (*Relay)(nil)
)

// Relay is a gate relay and its optional door contact. Its methods are safe
// for concurrent use; one Open pulses at a time.
type Relay struct {
	relay gpio.PinOut
	door  gpio.PinIn // nil without a door contact
	pulse time.Duration
	clock clockwork.Clock
	mu    sync.Mutex // held for a whole pulse
}

// New returns the gate on relay (released at once) and door (nil if the
// gate has none), pulsing for pulse. A nil clock means the real clock.
func New(relay gpio.PinOut, door gpio.PinIn, pulse time.Duration, clock clockwork.Clock) (*Relay, error) {
	if relay == nil {
		return nil, errors.New("relay: no relay pin")
	}
	if pulse <= 0 {
		return nil, fmt.Errorf("relay: pulse %v: must be positive", pulse)
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if err := relay.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("relay: %s: %w", relay, err)
	}
	if door != nil {
		if err := door.In(gpio.PullDown, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("relay: door %s: %w", door, err)
		}
	}
	return &Relay{relay: relay, door: door, pulse: pulse, clock: clock}, nil
}

// Open implements gate.Gate: it holds the relay for the pulse length and
// releases it. If ctx ends first it releases the relay early and returns
// ctx's error.
func (r *Relay) Open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.relay.Out(gpio.High); err != nil {
		return errors.Join(fmt.Errorf("relay: %s: %w", r.relay, err), r.release())
	}
	t := r.clock.NewTimer(r.pulse)
	defer t.Stop()
	select {
	case <-t.Chan():
		return r.release()
	case <-ctx.Done():
		return errors.Join(ctx.Err(), r.release())
	}
}

// DoorOpen implements gate.Door: the door contact reads high while the door
// stands open. Without a contact it returns gate.ErrNoDoor.
func (r *Relay) DoorOpen() (bool, error) {
	if r.door == nil {
		return false, gate.ErrNoDoor
	}
	return r.door.Read() == gpio.High, nil
}

// Halt implements gate.Gate: it releases the relay, also in the middle of
// a pulse.
func (r *Relay) Halt() error { return r.release() }

func (r *Relay) release() error {
	if err := r.relay.Out(gpio.Low); err != nil {
		return fmt.Errorf("relay: %s: %w", r.relay, err)
	}
	return nil
}
