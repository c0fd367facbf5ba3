package firmware

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/synth"
)

// A live hand held badly (too far, too close, moving, in the sun...) is
// guided, never called an attack, whatever liveness makes of the bursts the
// gate refuses.
func TestBadlyHeldHandsAreNeverCalledAttacks(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a statistical run over hundreds of full-size frames: in the full pass without -race")
	}
	w := sim.NewWorld(sim.Cached(renders))
	k := newBareKiosk(t, w)
	defer k.zeroFrames()
	refused := 0
	for _, c := range synth.Conditions() {
		for seed := range 4 {
			p := sim.Person{Name: "hand-" + c.String() + string(rune('a'+seed)), Condition: c, IgnoresGuidance: true}
			// As the kiosk decides: a burst that did not move is
			// looked at again (liveness.StillRetakes) before it is
			// called an attack; any other attack call ends the
			// session. Calling the first still burst an attack was
			// stricter than the kiosk and failed once in about 30
			// runs (2026-12-06: a blurred hand still for one burst,
			// no_micro_motion at 0.493; a hand's tremor can pause).
			stills := 0
			for _, r := range refusedBursts(t, k, w, p, 3) {
				refused++
				attack, still := attackAnyway(r.gate, r.live)
				if attack && still && stills < liveness.StillRetakes {
					stills++
					continue
				}
				if attack {
					t.Errorf("%s hand (seed %d), refused by the gate (%s), called an attack: %s (score %.3f; %d still bursts before it)",
						c, seed, r.gate.Reason, r.live.Reason, r.live.Score, stills)
				}
			}
		}
	}
	if refused == 0 {
		t.Fatal("the gate refused no burst: the test tested nothing")
	}
	t.Logf("%d bursts refused by the gate, none called an attack", refused)
}

// Sheets larger than a palm (too close), a phone's screen (glare) and a
// mounted cast (moving or blurred where a cast has no texture), which the
// gate refuses, are still called attacks: the kiosk answers
// spoof_rejected, not retry.
func TestGateRefusedAttacksAreCalledAttacks(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a statistical run over full-size frames: in the full pass without -race")
	}
	w := sim.NewWorld(sim.Cached(renders))
	k := newBareKiosk(t, w)
	defer k.zeroFrames()
	for _, pr := range []synth.Presentation{synth.PrintedPhoto, synth.GlossyPhoto, synth.VeinPrint, synth.VeinPrintMounted,
		synth.ScreenReplay, synth.RigidReplica} {
		refused := 0
		for seed := range 4 {
			p := sim.Person{Name: "attack-" + string(rune('a'+seed)), Presentation: pr, IgnoresGuidance: true}
			// As the kiosk decides: the first refused burst called an
			// attack ends the session, a still one after a second look.
			stills, called := 0, false
			var gates []quality.Reason
			for _, r := range refusedBursts(t, k, w, p, 4) {
				gates = append(gates, r.gate.Reason)
				attack, still := attackAnyway(r.gate, r.live)
				if attack && still && stills < liveness.StillRetakes {
					stills++
					continue
				}
				if attack {
					called = true
					break
				}
			}
			if len(gates) > 0 {
				refused++
			}
			if len(gates) > 0 && !called {
				t.Errorf("%s (seed %d): refused by the gate (%v) and never called an attack", pr, seed, gates)
			}
		}
		if refused == 0 { // the others pass the gate and meet liveness itself
			t.Errorf("%s: the gate refused none of 4: the test tested nothing", pr)
		}
	}
}

// judged is a burst the gate refused, and what liveness made of it.
type judged struct {
	gate quality.Verdict
	live liveness.Result
}

// refusedBursts hovers p over w at the presence sensor's distance, takes n
// bursts and returns the ones the gate refused, judged by liveness, as
// the kiosk's capture loop does; then it withdraws the hand.
func refusedBursts(t *testing.T, k *Kiosk, w *sim.World, p sim.Person, n int) []judged {
	t.Helper()
	ctx := context.Background()
	w.Hover(p)
	defer w.Withdraw()
	// The sensor reports the last hand's departure first.
	k.distance.Store(0)
	for range 3 {
		r, err := w.Presence().Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Present {
			k.distance.Store(int64(r.MM))
			break
		}
	}
	if k.distance.Load() <= 0 {
		t.Fatalf("%s: the presence sensor reads no distance", p.Name)
	}
	k.quality.Reset()
	var out []judged
	for range n {
		var last quality.Verdict
		ok, err := k.burstOK(ctx, &last)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			out = append(out, judged{last, k.live.CheckBurst(k.burst)})
		}
	}
	return out
}

// newBareKiosk is a kiosk on w's parts that is not running: a test calls
// its capture steps itself.
func newBareKiosk(t *testing.T, w *sim.World) *Kiosk {
	t.Helper()
	palm, _ := newSealer(t)
	card, _ := newSealer(t)
	var b bus.Bus
	k, err := New(Options{DeviceID: "kiosk-test-1", Devices: Devices{Camera: w.Camera(), Light: w.Light(),
		Presence: w.Presence(), Display: w.Display(), Cards: w.Cards(), Keypad: w.Keypad(), Gate: w.Gate()},
		Cloud: &fakeCloud{}, Palm: palm, Card: card, Bus: &b, Patterns: rand.NewPCG(1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// Liveness subtracts the black level the sensor reports for this capture,
// not a constant.
func TestBurstCarriesTheSensorsBlackLevel(t *testing.T) {
	w := sim.NewWorld(sim.Cached(renders))
	k := newBareKiosk(t, w)
	defer k.zeroFrames()
	w.Hover(sim.Person{Name: "alice"})
	var last quality.Verdict
	if _, err := k.burstOK(context.Background(), &last); err != nil {
		t.Fatal(err)
	}
	if want := w.Camera().BlackLevel(); k.burst.Black != want || want == 0 {
		t.Errorf("burst black level %v, want the sensor's %v", k.burst.Black, want)
	}
}

// A hand whose tremor pauses for one burst is looked at again and served;
// one still through every burst, as a mount holds an attack, is refused as
// still, and nothing is sent.
func TestStillBurstIsTakenAgain(t *testing.T) {
	// Still frames count from the hand's arrival: a good hand's first
	// burst is the one judged.
	const burst = liveness.BurstFrames
	tests := []struct {
		name     string
		still    int      // frames of one instant from the hand's arrival
		verdicts []string // liveness reasons, in order ("" live)
		outcome  string
		sent     int
	}{
		{"trembling", 0, []string{""}, "approved", 1},
		{"still for the first burst", burst, []string{liveness.NoMicroMove, ""}, "approved", 1},
		{"still throughout", 100 * burst, []string{liveness.NoMicroMove, liveness.NoMicroMove}, "spoof_rejected", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, wire.Approved, nil)
				r.await(t, bus.Screen, "idle")
				r.world.Hover(sim.Person{Name: "alice"})
				r.world.HoldStill(tt.still)
				r.sense(t, true)
				var verdicts []string
				for ev := range r.events.C {
					if ev.Event == bus.Liveness {
						verdicts = append(verdicts, ev.Reason)
					}
					if ev.Event == bus.Decision {
						if ev.Outcome != tt.outcome || !slices.Equal(verdicts, tt.verdicts) {
							t.Errorf("%s after liveness %q, want %s after %q", ev.Outcome, verdicts, tt.outcome, tt.verdicts)
						}
						break
					}
				}
				if n := len(r.requests()); n != tt.sent {
					t.Errorf("%d requests sent, want %d", n, tt.sent)
				}
			})
		})
	}
}
