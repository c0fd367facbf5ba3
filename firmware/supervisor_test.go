package firmware

import (
	"context"
	"errors"
	"image"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/palmd/palmd/drivers/camera"
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/synth"
)

// farHand keeps its hand too far whatever the screen says, so its capture
// goes on (with guidance) until something ends it.
var farHand = sim.Person{Name: "dave", Condition: synth.TooFar, IgnoresGuidance: true}

// collect reads events until one named until arrives, and returns them all.
func (r *rig) collect(t *testing.T, until string) []bus.Event {
	t.Helper()
	var evs []bus.Event
	timeout := time.After(time.Minute) // the bubble's: it runs out once every goroutine waits
	for {
		select {
		case ev := <-r.events.C:
			evs = append(evs, ev)
			if ev.Event == until {
				return evs
			}
		case <-timeout:
			t.Fatalf("no %s event: the kiosk waits without sending it; got %v", until, evs)
		}
	}
}

// collectScreen reads events until the screen named screen shows.
func (r *rig) collectScreen(t *testing.T, screen string) []bus.Event {
	t.Helper()
	var evs []bus.Event
	for {
		evs = append(evs, r.collect(t, bus.Screen)...)
		if evs[len(evs)-1].Screen == screen {
			return evs
		}
	}
}

func has(evs []bus.Event, name string) bool {
	return slices.ContainsFunc(evs, func(ev bus.Event) bool { return ev.Event == name })
}

// Every mode change while a session runs: what the screen, the gate and the
// event stream show.
func TestModeChangesDuringASession(t *testing.T) {
	tests := []struct {
		name string
		// start begins the session; change makes the mode change once the
		// session has reached the step the test is about.
		cloud  func(*fakeCloud)
		hand   sim.Person
		change func(t *testing.T, r *rig) []bus.Event
		// want: the session's last event, its reason, and the screen and
		// mode that follow.
		last, reason, screen string
		mode                 Mode
		restore              func(t *testing.T, r *rig)
	}{
		{
			name: "maintenance requested mid-capture ends the session",
			hand: farHand,
			change: func(t *testing.T, r *rig) []bus.Event {
				evs := r.collect(t, bus.Guidance)
				r.kiosk.Maintenance(true)
				return evs
			},
			last: bus.Cancelled, reason: "technician", screen: "maintenance", mode: ModeMaintenance,
			restore: func(t *testing.T, r *rig) { r.kiosk.Maintenance(false) },
		},
		{
			name:  "cloud lost mid-request ends the session",
			hand:  sim.Person{Name: "alice"},
			cloud: func(c *fakeCloud) { c.block, c.requested = true, make(chan struct{}, 1) },
			change: func(t *testing.T, r *rig) []bus.Event {
				<-r.cloud.requested
				r.kiosk.CloudHealth(false)
				return nil
			},
			last: bus.Cancelled, reason: "cloud_down", screen: "out_of_service", mode: ModeOutOfService,
			restore: func(t *testing.T, r *rig) { r.kiosk.CloudHealth(true) },
		},
		{
			name: "camera unplugged mid-capture is a retry and out of service",
			hand: farHand,
			change: func(t *testing.T, r *rig) []bus.Event {
				evs := r.collect(t, bus.Guidance)
				r.world.Unplug(true)
				// The retry stays up resultHold before the kiosk says
				// it is out of service.
				evs = append(evs, r.collect(t, bus.Decision)...)
				r.until(t, DefaultTimeouts().Presence, func() bool { return r.kiosk.Status().Session == "" })
				return evs
			},
			last: bus.Decision, reason: "camera", screen: "out_of_service", mode: ModeOutOfService,
			restore: func(t *testing.T, r *rig) {
				r.world.Unplug(false)
				r.until(t, 100*time.Millisecond, func() bool { return r.kiosk.Status().Parts[PartCamera] })
			},
		},
		{
			name: "an update waits for the session to finish",
			hand: sim.Person{Name: "alice"},
			change: func(t *testing.T, r *rig) []bus.Event {
				evs := r.collect(t, bus.Hover)
				r.kiosk.Updating(true)
				evs = append(evs, r.collect(t, bus.Decision)...)
				r.withdraw(t)
				// The result stays up resultHold.
				r.until(t, DefaultTimeouts().Presence, func() bool { return r.kiosk.Status().Session == "" })
				return evs
			},
			last: bus.Decision, screen: "updating", mode: ModeUpdating,
			restore: func(t *testing.T, r *rig) { r.kiosk.Updating(false) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRigWith(t, rigOptions{outcome: wire.Approved, cloud: tt.cloud})
				r.await(t, bus.Screen, "idle")
				r.hover(t, tt.hand)
				evs := tt.change(t, r)
				evs = append(evs, r.collectScreen(t, tt.screen)...)
				i := slices.IndexFunc(evs, func(ev bus.Event) bool { return ev.Event == tt.last })
				if i < 0 || evs[i].Reason != tt.reason {
					t.Errorf("events %v, want a %s with reason %q", evs, tt.last, tt.reason)
				}
				if !slices.ContainsFunc(evs, func(ev bus.Event) bool { return ev.Event == bus.Mode && ev.Mode == string(tt.mode) }) {
					t.Errorf("events %v, want a change to mode %s", evs, tt.mode)
				}
				eventually(t, func() bool { st := r.kiosk.Status(); return st.Mode == tt.mode && st.Session == "" })
				if tt.last == bus.Cancelled && has(evs, bus.Decision) {
					t.Errorf("a cancelled session also decided: %v", evs)
				}
				if want := map[bool]int{true: 1}[tt.mode == ModeUpdating]; r.world.GateOpens() != want {
					t.Errorf("gate opened %d times, want %d", r.world.GateOpens(), want)
				}
				r.assertZeroed(t)
				// Back to serving: the idle screen, and the kiosk serves again.
				r.world.Withdraw()
				r.sense(t, false)
				tt.restore(t, r)
				r.awaitIdle(t)
				r.cloud.block = false
				r.hover(t, sim.Person{Name: "alice"})
				if d := r.await(t, bus.Decision, ""); d.Outcome != "approved" {
					t.Errorf("after the mode change: %+v", d)
				}
			})
		})
	}
}

func TestShutdownMidCaptureCancelsAndHalts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.hover(t, farHand)
		r.await(t, bus.Guidance, "")
		r.stop(t)
		r.events.Close()
		var evs []bus.Event
		r.events.Each(func(ev bus.Event) { evs = append(evs, ev) })
		i := slices.IndexFunc(evs, func(ev bus.Event) bool { return ev.Event == bus.Cancelled })
		if i < 0 || evs[i].Reason != "shutdown" || has(evs, bus.Decision) {
			t.Errorf("events at shutdown %v, want cancelled (shutdown) and no decision", evs)
		}
		if got := r.world.Screen().Name; got != "blank" {
			t.Errorf("screen %q after shutdown, want blank", got)
		}
		r.assertZeroed(t)
	})
}

// wedgedCamera blocks in Capture whatever its context says, as a driver
// stuck in an ioctl would, until release is closed.
type wedgedCamera struct {
	camera.Camera
	release chan struct{}
}

func (c wedgedCamera) Capture(context.Context, *image.Gray) error {
	<-c.release
	return errors.New("test camera: released")
}

func TestWatchdogFollowsLoopProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cam := wedgedCamera{release: make(chan struct{})}
		r := newRigWith(t, rigOptions{edit: func(d *Devices) { cam.Camera = d.Camera; d.Camera = cam }})
		releaseAtEnd(t, cam.release)
		r.await(t, bus.Screen, "idle")
		if !r.kiosk.Healthy() {
			t.Fatal("unhealthy at start")
		}
		for range 10 { // ten seconds of an idle kiosk: the loop beats on
			r.advance(time.Second)
		}
		eventually(t, r.kiosk.Healthy)
		r.world.Hover(sim.Person{Name: "alice"})
		r.sense(t, true)
		// The session is stuck in the camera: the loop still beats, but the
		// job overruns its budget and the watchdog must no longer be fed.
		r.until(t, time.Second, func() bool { return !r.kiosk.Healthy() })
		// Shutdown gives up on the wedged session after Timeouts.Halt.
		r.cancel()
		r.until(t, DefaultTimeouts().Halt, r.returned(t))
	})
}

// returned reports, without waiting, whether Run has returned.
func (r *rig) returned(t *testing.T) func() bool {
	return func() bool {
		select {
		case err, ok := <-r.done:
			r.ran(t, err, ok)
			return true
		default:
			return false
		}
	}
}

// ran takes Run's return from r.done (ok: not taken before): an error
// fails the test, once.
func (r *rig) ran(t *testing.T, err error, ok bool) {
	if ok && err != nil {
		t.Errorf("Run: %v", err)
	}
	if ok {
		close(r.done)
	}
}

// awaitHealth returns the next health event of part.
func (r *rig) awaitHealth(t *testing.T, part string) bus.Event {
	t.Helper()
	for {
		if ev := r.await(t, bus.Health, ""); ev.Part == part {
			return ev
		}
	}
}

// scriptedReader returns its script, then blocks until ctx ends.
type scriptedReader struct {
	mu     sync.Mutex
	script []func() (cardreader.Event, error)
}

func (s *scriptedReader) Next(ctx context.Context) (cardreader.Event, error) {
	s.mu.Lock()
	if len(s.script) > 0 {
		f := s.script[0]
		s.script = s.script[1:]
		s.mu.Unlock()
		return f()
	}
	s.mu.Unlock()
	<-ctx.Done()
	return cardreader.Event{}, ctx.Err()
}

func (s *scriptedReader) Halt() error { return nil }

func TestGarbageNeverDelaysTheNextSwipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pan, err := cardreader.ParsePAN([]byte("4539578763621486"))
		if err != nil {
			t.Fatal(err)
		}
		sr := &scriptedReader{}
		for range 20 {
			sr.script = append(sr.script, func() (cardreader.Event, error) {
				return cardreader.Event{}, errors.Join(errors.New("test reader: noise"), cardreader.ErrUnreadable)
			})
		}
		sr.script = append(sr.script, func() (cardreader.Event, error) {
			return cardreader.Event{Kind: cardreader.Inserted, Card: cardreader.Card{PAN: pan}}, nil
		})
		r := newRigWith(t, rigOptions{edit: func(d *Devices) { d.Cards = sr }})
		start := r.clock.Now()
		r.await(t, bus.Screen, "enter_phone")
		if r.clock.Since(start) != 0 {
			t.Errorf("the good swipe came %v after the garbage, want at once", r.clock.Since(start))
		}
		eventually(t, func() bool { return r.kiosk.Status().Session == "enrol" })
		if st := r.kiosk.Status(); st.Counters["input_errors_cards"] != 20 {
			t.Errorf("status %+v, want 20 input errors counted", st)
		}
		if _, reported := r.kiosk.Status().Parts[PartCards]; reported {
			t.Error("garbage reported the card reader's health: it never went down")
		}
	})
}

// flakyKeypad fails (gone) until reopened, then works.
type flakyKeypad struct {
	mu      sync.Mutex
	gone    bool
	reopens int
	keys    chan keypad.Key
}

func (k *flakyKeypad) Next(ctx context.Context) (keypad.Key, error) {
	k.mu.Lock()
	gone := k.gone
	k.mu.Unlock()
	if gone {
		return 0, errors.New("test keypad: no such device")
	}
	select {
	case key := <-k.keys:
		return key, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (k *flakyKeypad) Reopen(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reopens++
	if k.reopens < 3 {
		return errors.New("test keypad: still gone")
	}
	k.gone = false
	return nil
}

func (k *flakyKeypad) Halt() error { return nil }

func TestInputPartGoneIsReopenedWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kp := &flakyKeypad{gone: true, keys: make(chan keypad.Key, 1)}
		r := newRigWith(t, rigOptions{edit: func(d *Devices) { d.Keypad = kp }})
		if ev := r.awaitHealth(t, PartKeypad); ev.Reason != "keypad_down" {
			t.Fatalf("health %+v, want keypad_down", ev)
		}
		// 100 + 200 + 400 ms of backoff and three reopens later it reads again.
		r.until(t, 50*time.Millisecond, func() bool { kp.mu.Lock(); defer kp.mu.Unlock(); return !kp.gone })
		kp.keys <- keypad.DeleteMyData
		if ev := r.awaitHealth(t, PartKeypad); ev.Reason != "keypad_up" {
			t.Fatalf("health %+v, want keypad_up", ev)
		}
		r.await(t, bus.Screen, "delete_factor")
		kp.mu.Lock()
		defer kp.mu.Unlock()
		if kp.reopens != 3 {
			t.Errorf("%d reopens, want 3", kp.reopens)
		}
	})
}

func TestCardNobodyAskedForIsWipedAndAskedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pan, err := cardreader.ParsePAN([]byte("4539578763621486"))
		if err != nil {
			t.Fatal(err)
		}
		sr := &scriptedReader{}
		r := newRigWith(t, rigOptions{outcome: wire.NotRecognized, edit: func(d *Devices) { d.Cards = sr }})
		r.await(t, bus.Screen, "idle")
		r.hover(t, farHand)
		r.await(t, bus.Guidance, "")
		// A card read mid-capture, as the reader's supervisor hands it on.
		r.kiosk.post(cardInput{ev: cardreader.Event{Kind: cardreader.Inserted, Card: cardreader.Card{PAN: pan}}})
		if ev := r.await(t, bus.Dropped, ""); ev.Part != PartCards {
			t.Fatalf("dropped %+v, want the card", ev)
		}
		if slices.ContainsFunc(pan.Digits(), func(b byte) bool { return b != 0 }) {
			t.Error("a dropped card number was not wiped")
		}
		r.until(t, time.Second, func() bool { return r.kiosk.Status().Session == "" }) // capture gives up
		r.await(t, bus.Screen, "reinsert_card")
		if got := r.requests(); len(got) != 0 {
			t.Errorf("requests %v, want none", got)
		}
	})
}

// TestMaintenanceNamesDroppedInput: in maintenance a technician tests the
// card reader and keypad; the dropped input's event names what came (the
// card's last four digits, the key's name), and the card is not asked for
// again once the kiosk serves. Serving, a dropped input names nothing.
func TestMaintenanceNamesDroppedInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.kiosk.Maintenance(true)
		r.await(t, bus.Screen, "maintenance")
		r.world.InsertCard("4539578763621486")
		if ev := r.await(t, bus.Dropped, ""); ev.Part != PartCards || ev.Reason != "card_1486" {
			t.Errorf("dropped %+v, want the card ending 1486", ev)
		}
		r.world.RemoveCard()
		for _, want := range []string{"digit_5", "enter", "cancel"} {
			r.world.Type(map[string]keypad.Key{"digit_5": '5', "enter": keypad.Enter, "cancel": keypad.Cancel}[want])
			if ev := r.await(t, bus.Dropped, ""); ev.Part != PartKeypad || ev.Reason != want {
				t.Errorf("dropped %+v, want the key %s", ev, want)
			}
		}
		r.kiosk.Maintenance(false)
		r.await(t, bus.Screen, "idle")
		r.world.Type('7')
		if ev := r.await(t, bus.Dropped, ""); ev.Part != PartKeypad || ev.Reason != "" {
			t.Errorf("dropped while serving %+v, want the keypad and no name", ev)
		}
		if sc := r.world.Screen().Name; sc != "idle" {
			t.Errorf("screen %q after maintenance, want idle (the test card is not asked for again)", sc)
		}
	})
}

func TestNotProvisionedServesNobody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.kiosk.Provisioned(false)
		r.await(t, bus.Screen, "not_provisioned")
		r.hover(t, sim.Person{Name: "alice"})
		r.world.InsertCard("4539578763621486")
		if ev := r.await(t, bus.Dropped, ""); ev.Part != PartCards {
			t.Errorf("dropped %+v, want the card", ev)
		}
		if st := r.kiosk.Status(); st.Mode != ModeNotProvisioned || st.Session != "" {
			t.Errorf("status %+v, want not provisioned and no session", st)
		}
		r.withdraw(t)
		r.kiosk.Provisioned(true)
		r.await(t, bus.Screen, "reinsert_card")
		r.hover(t, sim.Person{Name: "alice"})
		if d := r.await(t, bus.Decision, ""); d.Outcome != "approved" {
			t.Errorf("once provisioned: %+v", d)
		}
	})
}
