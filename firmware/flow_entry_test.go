package firmware

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/wire"
)

// gateEvents returns the reasons of the gate events until the session ends.
func (r *rig) gateEvents(t *testing.T, act func(step int)) []string {
	t.Helper()
	var got []string
	for step := 0; ; step++ {
		act(step)
		r.advance(DefaultTimeouts().Presence)
		for drained := false; !drained; {
			select {
			case ev := <-r.events.C:
				if ev.Event == bus.Gate {
					got = append(got, ev.Reason)
				}
				if ev.Event == bus.Screen && ev.Screen == "idle" {
					return got
				}
			default:
				drained = true
			}
		}
		if step > 2000 {
			t.Fatalf("the session never ended; gate events %v", got)
		}
	}
}

func TestEntryDoor(t *testing.T) {
	tick := DefaultTimeouts().Presence
	at := func(d time.Duration) int { return int(d / tick) }
	tests := []struct {
		name string
		door map[int]bool // the door's state from each step on
		want []string
	}{
		{"one passage", map[int]bool{at(time.Second): true, at(3 * time.Second): false},
			[]string{"pulse", "passage"}},
		{"tailgating", map[int]bool{at(time.Second): true, at(2 * time.Second): false, at(3 * time.Second): true, at(4 * time.Second): false},
			[]string{"pulse", "passage", "tailgating"}},
		{"door held open", map[int]bool{at(time.Second): true, at(12 * time.Second): false},
			[]string{"pulse", "passage", "door_held"}},
		{"nobody goes through", nil, []string{"pulse", "no_passage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, wire.Approved, nil)
				r.world.Door(false)
				r.await(t, bus.Screen, "idle")
				r.hover(t, sim.Person{Name: "alice"})
				r.await(t, bus.Decision, "")
				r.world.Withdraw()
				got := r.gateEvents(t, func(step int) {
					if open, ok := tt.door[step]; ok {
						r.world.Door(open)
					}
				})
				if len(got) != len(tt.want) {
					t.Fatalf("gate events %v, want %v", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Fatalf("gate events %v, want %v", got, tt.want)
					}
				}
				if n := r.world.GateOpens(); n != 1 {
					t.Errorf("the relay pulsed %d times, want 1", n)
				}
			})
		})
	}
}
