package firmware

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/wire"
)

// screenEvent reads events until the screen named name shows.
func (r *rig) screenEvent(t *testing.T, name string) bus.Event {
	t.Helper()
	return r.await(t, bus.Screen, name)
}

// A result stays up at least resultHold on the kiosk's clock, however
// quickly the hand leaves or the flow ends.
func TestResultStaysUpAtLeastResultHold(t *testing.T) {
	tests := []struct {
		name   string
		result string
		run    func(t *testing.T, r *rig)
	}{
		{"approved, hand pulled back at once", "approved", func(t *testing.T, r *rig) {
			r.hover(t, sim.Person{Name: "alice"})
		}},
		{"delete cancelled", "kept", func(t *testing.T, r *rig) {
			r.world.Type(keypad.DeleteMyData)
			r.screenEvent(t, "delete_factor")
			r.world.InsertCard("4539578763621486")
			r.screenEvent(t, "delete_hover")
			r.hover(t, sim.Person{Name: "carol"})
			r.screenEvent(t, "confirm_delete")
			r.world.Type(keypad.Cancel)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, wire.Approved, nil)
				r.screenEvent(t, "idle")
				tt.run(t, r)
				shown := r.screenEvent(t, tt.result)
				r.withdraw(t)
				if got := r.world.Screen().Name; got != tt.result {
					t.Fatalf("screen %q once the hand left, want %q still up", got, tt.result)
				}
				r.until(t, 10*time.Millisecond, func() bool { return r.world.Screen().Name == "idle" })
				idle := r.screenEvent(t, "idle")
				if d := idle.Time.Sub(shown.Time); d < resultHold || d > resultHold+100*time.Millisecond {
					t.Errorf("%s was up %v, want %v", tt.result, d, resultHold)
				}
			})
		})
	}
}

// A hand is answered at once (scanning), then guided with its measured
// distance and position redrawn live under one message, with the time left
// counting down; the screen event is sent once per message.
func TestGuidanceIsLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.screenEvent(t, "idle")
		r.hover(t, farHand)
		r.screenEvent(t, "scanning")
		r.screenEvent(t, "move_lower")
		shows := func(footer string) func() bool {
			return func() bool {
				n := 0
				for _, s := range r.world.Screens() {
					if s.Name == "move_lower" && s.Footer == footer {
						n++
					}
				}
				return n >= 2
			}
		}
		// Redrawn while the clock stands still (the camera delivers frames
		// all the same), then again once it has moved.
		r.until(t, 0, shows("8 s left"))
		r.advance(3 * time.Second)
		r.until(t, 0, shows("5 s left"))
		r.until(t, 100*time.Millisecond, func() bool { return r.kiosk.Status().Session == "" })
		d := r.collect(t, bus.Decision)
		if last := d[len(d)-1]; last.Outcome != string(wire.Retry) {
			t.Errorf("decision %+v, want retry", last)
		}
		for _, ev := range d {
			if ev.Event == bus.Screen && ev.Screen == "move_lower" {
				t.Errorf("move_lower announced again on redraw: %v", d)
			}
		}
		footers := map[string]bool{}
		redraws := 0
		for _, s := range r.world.Screens() {
			if s.Name != "move_lower" {
				continue
			}
			redraws++
			footers[s.Footer] = true
			if s.Hand == nil || s.Hand.InRange() || s.Hand.DistanceMM <= s.Hand.FarMM || s.Progress != progressScanning {
				t.Fatalf("move_lower without a too-far hand or progress: %+v", s)
			}
		}
		if redraws < 4 || len(footers) < 2 || !footers["8 s left"] || !footers["5 s left"] {
			t.Errorf("%d redraws with countdowns %v, want several counting down from 8 s", redraws, footers)
		}
		names := screenNames(r.world)
		if i, j := slices.Index(names, "scanning"), slices.Index(names, "move_lower"); i < 0 || j < i {
			t.Errorf("screens %v: want scanning before move_lower", names)
		}
	})
}

// screenNames is the order screens changed in.
func screenNames(w *sim.World) []string {
	var names []string
	for _, s := range w.Screens() {
		if len(names) == 0 || names[len(names)-1] != s.Name {
			names = append(names, s.Name)
		}
	}
	return names
}

// A palm session shows its progress: scanning, checking, the result.
func TestProgressThroughAnIdentification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.screenEvent(t, "idle")
		r.hover(t, sim.Person{Name: "alice"})
		r.screenEvent(t, "approved")
		names := screenNames(r.world)
		want := []string{"idle", "scanning", "checking", "approved"}
		if !slices.Equal(names, want) {
			t.Errorf("screens %v, want %v", names, want)
		}
	})
}

// Enter with too few digits says so, with the count; the next digit goes
// back to the entry screen with its format hint.
func TestPhoneTooShortIsShown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.screenEvent(t, "idle")
		r.world.InsertCard("4539578763621486")
		r.screenEvent(t, "enter_phone")
		if b := r.world.Screen().Body; !strings.Contains(b, "7 to 15 digits") {
			t.Errorf("phone entry %q has no format hint", b)
		}
		r.world.Type('5', '5', '5', keypad.Enter)
		r.screenEvent(t, "phone_too_short")
		if b := r.world.Screen().Body; !strings.Contains(b, "you typed 3") || !strings.Contains(b, "*55") {
			t.Errorf("too-short screen %q, want the count and the masked digits", b)
		}
		r.world.Type('0')
		r.screenEvent(t, "enter_phone")
	})
}

// A card the reader cannot read is answered on the screen for noticeHold,
// then the kiosk is idle again.
func TestBadCardSwipeIsShown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.screenEvent(t, "idle")
		r.world.InsertCard("4539578763621487") // fails Luhn
		r.await(t, bus.CardError, "")
		shown := r.screenEvent(t, "card_unreadable")
		r.until(t, 100*time.Millisecond, func() bool { return r.world.Screen().Name == "idle" })
		idle := r.screenEvent(t, "idle")
		if d := idle.Time.Sub(shown.Time); d < noticeHold || d > noticeHold+DefaultTimeouts().Heartbeat+100*time.Millisecond {
			t.Errorf("card_unreadable was up %v, want %v to %v", d, noticeHold, noticeHold+DefaultTimeouts().Heartbeat)
		}
	})
}
