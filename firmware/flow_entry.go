package firmware

import (
	"errors"
	"time"

	"github.com/palmd/palmd/drivers/gate"
	"github.com/palmd/palmd/firmware/bus"
)

// Entry: an approved identification pulses the gate relay (identify,
// flow_identify.go). Where the gate has a door contact (gate.Door), the
// session then watches the door, read at the presence sensor's rate on the
// kiosk's clock, and reports on the event bus (bus.Gate):
//
//	pulse       the relay pulsed
//	passage     the door opened: someone went through
//	tailgating  it opened again on the same approval: a second person
//	door_held   it stood open for doorHeld
//	no_passage  nobody went through within doorWindow
//
// The watch ends doorSettle after the door closed, doorWindow after the
// pulse if it never opened, and doorWindow+doorHeld after it at the latest.
const (
	doorWindow = 10 * time.Second
	doorSettle = 3 * time.Second
	doorHeld   = 8 * time.Second
)

// openGate pulses the relay and watches the door, if there is a contact.
func (s *session) openGate() {
	k := s.k
	if err := k.o.Devices.Gate.Open(s.ctx); err != nil {
		k.o.Log.Error("gate", "err", err)
		return
	}
	s.emit(bus.Event{Event: bus.Gate, Reason: "pulse"})
	d, ok := k.o.Devices.Gate.(gate.Door)
	if !ok {
		return
	}
	was, err := d.DoorOpen()
	if errors.Is(err, gate.ErrNoDoor) {
		return
	}
	tick := k.clock.NewTicker(k.o.Timeouts.Presence)
	defer tick.Stop()
	start := k.clock.Now()
	var passages int
	var openedAt, closedAt time.Time
	held := false
	for err == nil {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.Chan():
		}
		var open bool
		open, err = d.DoorOpen()
		now := k.clock.Now()
		switch {
		case err != nil:
		case open && !was:
			passages++
			openedAt, held = now, false
			why := "passage"
			if passages > 1 {
				why = "tailgating"
			}
			s.emit(bus.Event{Event: bus.Gate, Reason: why})
		case !open && was:
			closedAt = now
		case open && passages > 0 && !held && now.Sub(openedAt) >= doorHeld:
			held = true
			s.emit(bus.Event{Event: bus.Gate, Reason: "door_held"})
		}
		was = open
		switch {
		case now.Sub(start) >= doorWindow+doorHeld: // a door left open is reported, not waited for
			return
		case passages == 0 && now.Sub(start) >= doorWindow:
			s.emit(bus.Event{Event: bus.Gate, Reason: "no_passage"})
			return
		case passages > 0 && !open && now.Sub(closedAt) >= doorSettle:
			return
		}
	}
	k.o.Log.Warn("door contact", "err", err)
}
