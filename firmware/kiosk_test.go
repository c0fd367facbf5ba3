package firmware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// fakeCloud opens what the kiosk sealed, with the real private keys, and
// answers with a fixed outcome (or an error).
type fakeCloud struct {
	palm, card *seal.Opener
	outcome    wire.Outcome
	err        error

	// requested, if set, hears of each request but voids; with block set
	// the request then waits until its context ends, as one to a cloud
	// that was lost does.
	requested chan struct{}
	block     bool
	// voidErr, if set, fails every void; voidAt is when (on clock) each
	// void was asked for, failed or not.
	voidErr error
	voidAt  []time.Time
	clock   clockwork.Clock

	mu     sync.Mutex
	phones []string
	cards  []string
	palms  int
	hands  []string // the palms of each enrolment's captures: "LLL", "LLLRRR"
	flows  []wire.Flow
	voids  []string // the POS message ids voided
	overs  []int    // the ages asked about
}

func (c *fakeCloud) Do(ctx context.Context, req wire.Request) (wire.Decision, error) {
	if c.requested != nil && req.Flow != wire.FlowVoid {
		c.requested <- struct{}{}
	}
	if c.block && req.Flow != wire.FlowVoid {
		<-ctx.Done()
		return wire.Decision{}, ctx.Err()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Flow == wire.FlowVoid {
		c.voidAt = append(c.voidAt, c.clock.Now())
		if c.voidErr != nil {
			return wire.Decision{}, c.voidErr
		}
	}
	c.flows = append(c.flows, req.Flow)
	if c.err != nil {
		return wire.Decision{}, c.err
	}
	if req.Flow == wire.FlowVoid {
		c.voids = append(c.voids, req.Payment.Ref)
		return wire.Decision{Request: req.ID, Outcome: wire.Approved, Reason: "voided"}, nil
	}
	rec, err := c.palm.Open(seal.ContextOf(req, seal.PartPalm), req.Palm)
	if err != nil {
		return wire.Decision{}, err
	}
	if req.Flow == wire.FlowEnrol {
		caps, err := wire.ParseCaptures(rec)
		if err != nil {
			return wire.Decision{}, err
		}
		var hands []byte
		for _, cp := range caps {
			hands = append(hands, byte(cp.Hand))
		}
		c.hands = append(c.hands, string(hands))
	} else if _, err := wire.ParseCapture(rec); err != nil {
		return wire.Decision{}, err
	}
	c.palms++
	if len(req.Phone) > 0 {
		ph, err := c.palm.Open(seal.ContextOf(req, seal.PartPhone), req.Phone)
		if err != nil {
			return wire.Decision{}, err
		}
		c.phones = append(c.phones, string(ph))
	}
	if len(req.Card) > 0 {
		pan, err := c.card.Open(seal.ContextOf(req, seal.PartCard), req.Card)
		if err != nil {
			return wire.Decision{}, err
		}
		c.cards = append(c.cards, string(pan))
	}
	d := wire.Decision{Request: req.ID, Outcome: c.outcome, Subject: "sub-test"}
	switch {
	case req.Flow == wire.FlowPay && c.outcome == wire.Approved:
		d.Reference = "pay-" + req.Payment.Ref
	case req.Flow == wire.FlowLoyalty && c.outcome == wire.Approved:
		d.Reference = "L-test"
	case req.Flow == wire.FlowAge:
		c.overs = append(c.overs, req.Over)
		if c.outcome == wire.Declined {
			d.Reason = "not_over"
		}
	}
	return d, nil
}

// newSealer returns a sealer and the opener for its key.
func newSealer(t *testing.T) (*seal.Sealer, *seal.Opener) {
	t.Helper()
	pub, priv, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.NewSealer(pub)
	if err != nil {
		t.Fatal(err)
	}
	o, err := seal.NewOpener(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

// rig is a kiosk on simulated parts and a fake clock, run in a
// testing/synctest bubble (synctest.Test, or devtest.Bubble with NATS):
// call newRig and everything after it inside the bubble. Nothing in it
// waits on the machine's clock. There are two clocks, and both move only
// when every goroutine of the bubble waits:
//
//   - The kiosk's (rig.clock, fake) moves only when a test moves it
//     (advance, until), and only where the kiosk waits for time (a sensor
//     reading, a timeout). Before a test moves it or looks at the kiosk,
//     synctest.Wait lets every goroutine of the kiosk do all it can at
//     that instant.
//   - The bubble's (package time) paces the camera: a frame every
//     sim.FramePeriod (sim.FrameClock), so a capture that never succeeds
//     (a hand held too far) waits between frames instead of spinning, and
//     takes no time on the kiosk's clock. It runs while a test waits for
//     an event (await, collect) and for one frame period at each advance.
//     A minute of it bounds how long a test waits for an event: a kiosk
//     that waits for its own clock and will never send the event fails
//     the test at once.
type rig struct {
	world  *sim.World
	cloud  *fakeCloud
	kiosk  *Kiosk
	clock  *clockwork.FakeClock
	events *bus.Sub
	cancel context.CancelFunc
	done   chan error
}

// renders keeps the frames every rig renders: the tests present the same
// captures in every run of -count=N, and each is rendered once.
var renders = sim.NewCache(64, 512)

// rigOptions change a rig before it runs.
type rigOptions struct {
	outcome  wire.Outcome
	cloudErr error
	edit     func(*Devices)
	cloud    func(*fakeCloud)
	// uplink, if set, answers instead of the fake cloud, with the
	// sealers given.
	uplink     Cloud
	palm, card *seal.Sealer
	// dataDir is the kiosk's data directory (Options.DataDir).
	dataDir string
	log     *slog.Logger
	// timers, if set, is the clock the kiosk is given: the rig's, noting
	// the timers the kiosk starts.
	timers *timerLog
}

// timerLog is a fake clock that notes which function started each timer
// and for how long, for a test to check the delays the kiosk chose.
type timerLog struct {
	*clockwork.FakeClock
	mu      sync.Mutex
	started map[string][]time.Duration // by the starting function's name
}

func (c *timerLog) NewTimer(d time.Duration) clockwork.Timer {
	t := c.FakeClock.NewTimer(d)
	name := "unknown"
	if pc, _, _, ok := runtime.Caller(1); ok {
		name = runtime.FuncForPC(pc).Name()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started == nil {
		c.started = map[string][]time.Duration{}
	}
	c.started[name] = append(c.started[name], d)
	return t
}

// by returns the durations of the timers fn (a function's full name, as
// runtime reports it) has started, in order.
func (c *timerLog) by(fn string) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.started[fn])
}

func newRig(t *testing.T, outcome wire.Outcome, cloudErr error) *rig {
	t.Helper()
	return newRigWith(t, rigOptions{outcome: outcome, cloudErr: cloudErr})
}

// newRigWith starts a kiosk as o says. The fake clock starts at the
// bubble's time.Now (2000-01-01, in every run), the time NATS and the
// reference cloud read too: a request the kiosk stamps is not stale to
// them, and certificates made in the bubble are valid.
func newRigWith(t *testing.T, o rigOptions) *rig {
	t.Helper()
	palmS, palmO := newSealer(t)
	cardS, cardO := newSealer(t)
	r := &rig{world: sim.NewWorld(sim.Cached(renders), sim.FrameClock(clockwork.NewRealClock())),
		clock: clockwork.NewFakeClock()}
	var clock clockwork.Clock = r.clock
	if o.timers != nil {
		o.timers.FakeClock = r.clock
		clock = o.timers
	}
	r.cloud = &fakeCloud{palm: palmO, card: cardO, outcome: o.outcome, err: o.cloudErr, clock: r.clock}
	if o.cloud != nil {
		o.cloud(r.cloud)
	}
	var cloud Cloud = r.cloud
	if o.uplink != nil {
		cloud, palmS, cardS = o.uplink, o.palm, o.card
	}
	w := r.world
	devs := Devices{Camera: w.Camera(), Light: w.Light(), Presence: w.Presence(), Display: w.Display(),
		Cards: w.Cards(), Keypad: w.Keypad(), Gate: w.Gate()}
	if o.edit != nil {
		o.edit(&devs)
	}
	var b bus.Bus
	r.events = b.Subscribe(4096)
	k, err := New(Options{
		DeviceID: "kiosk-test-1",
		Devices:  devs,
		Cloud:    cloud, Palm: palmS, Card: cardS,
		Bus:     &b,
		Clock:   clock,
		DataDir: o.dataDir,
		Log:     o.log,
		// A fixed seed: a failure repeats with the same light.
		Patterns: rand.NewPCG(1, 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.kiosk = k
	k.CloudHealth(true)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- k.Run(ctx, nil) }()
	t.Cleanup(func() {
		r.stop(t)
		k.Close()
	})
	return r
}

// stop ends Run and waits for it: in a bubble, Run must return without
// the kiosk's clock moving.
func (r *rig) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		r.ran(t, err, ok)
	case <-time.After(time.Minute):
		t.Fatal("Run did not return once cancelled")
	}
}

// await returns the first event named name (and with screen, if given).
func (r *rig) await(t *testing.T, name, screen string) bus.Event {
	t.Helper()
	timeout := time.After(time.Minute) // the bubble's: it runs out once every goroutine waits
	for {
		select {
		case ev := <-r.events.C:
			if ev.Event == name && (screen == "" || ev.Screen == screen) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s %s event: the kiosk waits without sending it", name, screen)
		}
	}
}

// untilSteps bounds until: far more steps than any test needs.
const untilSteps = 10000

// until moves the kiosk's clock by step (0: not at all) with advance
// until cond holds. Use it only where the kiosk waits for time (or, step
// 0, for frames) and nothing else runs out meanwhile.
func (r *rig) until(t *testing.T, step time.Duration, cond func() bool) {
	t.Helper()
	synctest.Wait() // cond as things stand now, before the clock moves
	for range untilSteps {
		if cond() {
			return
		}
		r.advance(step)
	}
	st := r.kiosk.Status()
	t.Fatalf("the condition did not hold after %d steps of %v on the kiosk's clock (mode %s, session %q, screen %q)",
		untilSteps, step, st.Mode, st.Session, r.world.Screen().Name)
}

// advance moves the kiosk's clock by d once the kiosk has done all it can
// at this instant (started the timers it will wait on), lets the camera
// deliver a frame (one frame period of the bubble's clock), and returns
// once the kiosk has done all it can at the new instant.
func (r *rig) advance(d time.Duration) {
	synctest.Wait()
	r.clock.Advance(d)
	time.Sleep(sim.FramePeriod) // the bubble's clock: the camera's frames, not the machine's time
	synctest.Wait()
}

// eventually checks, once every goroutine waits, that cond holds, with
// neither clock moving: for what the kiosk does on its own once an event
// has been seen (the gate pulse after the decision, the status after the
// step).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	synctest.Wait()
	if !cond() {
		t.Fatal("the condition does not hold once every goroutine waits (the kiosk's clock did not move)")
	}
}

// cardIn inserts a card at the idle screen: an enrolment begins, and asks
// for a phone number.
func (r *rig) cardIn(t *testing.T) {
	t.Helper()
	r.await(t, bus.Screen, "idle")
	r.world.InsertCard("4539578763621486")
	r.await(t, bus.Screen, "enter_phone")
}

// phoneIn types a phone number at the prompt: the enrolment asks for a
// palm.
func (r *rig) phoneIn(t *testing.T) {
	t.Helper()
	r.world.Type('5', '5', '5', '0', '1', '0', '0', '2', '0', '0', keypad.Enter)
	r.await(t, bus.Screen, "hover")
}

// awaitIdle moves the clock until the kiosk is idle again (a result stays
// up resultHold on the kiosk's clock) and reads the idle screen's event.
func (r *rig) awaitIdle(t *testing.T) {
	t.Helper()
	r.until(t, DefaultTimeouts().Presence, func() bool { return r.world.Screen().Name == "idle" })
	r.await(t, bus.Screen, "idle")
}

// sense lets the presence sensor take readings until the kiosk sees the
// hand there (present) or gone.
func (r *rig) sense(t *testing.T, present bool) {
	t.Helper()
	r.until(t, DefaultTimeouts().Presence, func() bool { return r.kiosk.Status().Present == present })
}

func (r *rig) hover(t *testing.T, p sim.Person) {
	t.Helper()
	r.world.Hover(p)
	r.sense(t, true)
}

// enrolPalm hovers p for an enrolment and, at each "once more" screen,
// lets the presence sensor see the hand lifted and hovered again (the
// simulated person does both as the screen shows): all of one palm's
// captures.
func (r *rig) enrolPalm(t *testing.T, p sim.Person) {
	t.Helper()
	r.hover(t, p)
	for range wire.MaxPerHand - 1 {
		r.rehover(t)
	}
}

// rehover waits for the "once more" screen and lets the presence sensor
// read until the kiosk has seen the hand lifted and hovered again (the
// simulated person does both as the screen shows) and the next capture
// has begun: the screen changes. Waiting for each edge instead would miss
// one on a loaded machine, where both can be read between two looks.
func (r *rig) rehover(t *testing.T) {
	t.Helper()
	r.await(t, bus.Screen, "palm_again")
	r.until(t, DefaultTimeouts().Presence, func() bool { return r.world.Screen().Name != "palm_again" })
}

func (r *rig) withdraw(t *testing.T) {
	t.Helper()
	r.world.Withdraw()
	r.sense(t, false)
}

// assertZeroed checks that no raw frame, palm region or record is left.
func (r *rig) assertZeroed(t *testing.T) {
	t.Helper()
	bufs := [][]byte{r.kiosk.palm.Pix, r.kiosk.plain[:cap(r.kiosk.plain)]}
	for _, f := range r.kiosk.burst.Frames {
		bufs = append(bufs, f.Img.Pix)
	}
	for i, b := range bufs {
		if slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
			t.Errorf("buffer %d still holds data after the session", i)
		}
	}
}

func (r *rig) requests() []wire.Flow {
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	return slices.Clone(r.cloud.flows)
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		name     string
		outcome  wire.Outcome
		cloudErr error
		want     wire.Outcome
		opens    int
	}{
		{"approved opens the gate", wire.Approved, nil, wire.Approved, 1},
		{"not recognised keeps it shut", wire.NotRecognized, nil, wire.NotRecognized, 0},
		{"cloud unreachable is a retry", "", errors.New("uplink: not connected"), wire.Retry, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, tt.outcome, tt.cloudErr)
				r.await(t, bus.Screen, "idle")
				r.hover(t, sim.Person{Name: "alice"})
				sealed := r.await(t, bus.Sealed, "")
				d := r.await(t, bus.Decision, "")
				if d.Flow != "identify" || d.Outcome != string(tt.want) || d.Session != sealed.Session {
					t.Errorf("decision = %+v, want identify/%s for session %s", d, tt.want, sealed.Session)
				}
				r.withdraw(t)
				r.awaitIdle(t)
				if got := r.world.GateOpens(); got != tt.opens {
					t.Errorf("gate opened %d times, want %d", got, tt.opens)
				}
				r.assertZeroed(t)
			})
		})
	}
}

func TestEnrolSealsCardAndPhone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.cardIn(t)
		r.world.Type('5', '5', '5', '0', '1', '0', '0', '2', '9', keypad.Backspace, '0', '0', keypad.Enter)
		r.await(t, bus.Screen, "hover")
		r.enrolPalm(t, sim.Person{Name: "bob"})
		d := r.await(t, bus.Decision, "")
		if d.Flow != "enrol" || d.Outcome != "approved" {
			t.Fatalf("decision = %+v", d)
		}
		r.withdraw(t)
		r.awaitIdle(t)
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		if !slices.Equal(r.cloud.phones, []string{"5550100200"}) || !slices.Equal(r.cloud.cards, []string{"4539578763621486"}) {
			t.Errorf("cloud opened phones %q and cards %q", r.cloud.phones, r.cloud.cards)
		}
		if !slices.Equal(r.cloud.hands, []string{"LLL"}) {
			t.Errorf("enrolment captures %q, want three of one palm (LLL)", r.cloud.hands)
		}
		r.assertZeroed(t)
	})
}

// Typing redraws the phone screen (the masked digits change) but tells the
// event stream once.
func TestRepeatedScreenIsNotReEmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.cardIn(t)
		r.phoneIn(t)
		r.events.Close()
		n := 0
		r.events.Each(func(ev bus.Event) {
			if ev.Event == bus.Screen && ev.Screen == "enter_phone" {
				n++
			}
		})
		shown := 0
		for _, s := range r.world.Screens() {
			if s.Name == "enter_phone" {
				shown++
			}
		}
		if n != 0 || shown != 11 { // the first event was read by await; 1 + 10 digits
			t.Errorf("%d more enter_phone events for %d redraws, want 0 for 11", n, shown)
		}
	})
}

func TestEnrolCancelledSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.cardIn(t)
		r.world.Type('5', '5', keypad.Enter, keypad.Cancel) // too short, then cancel
		r.awaitIdle(t)
		r.world.InsertCard("4539578763621487") // fails Luhn: reported, kiosk stays idle
		if ev := r.await(t, bus.CardError, ""); ev.Reason != "bad_card_number" {
			t.Errorf("card error %+v, want reason bad_card_number", ev)
		}
		if got := r.requests(); len(got) != 0 {
			t.Errorf("cancelled enrolment sent requests %v", got)
		}
	})
}

func TestDeleteNeedsConfirmation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.world.Type(keypad.DeleteMyData)
		r.await(t, bus.Screen, "delete_factor")
		r.world.Type('5', '5', '5', '0', '1', '0', '0', '2', '0', '0', keypad.Enter)
		r.await(t, bus.Screen, "delete_hover")
		r.hover(t, sim.Person{Name: "carol"})
		r.await(t, bus.Screen, "confirm_delete")
		r.withdraw(t)
		r.world.Type(keypad.Cancel)
		r.await(t, bus.Screen, "kept")
		r.awaitIdle(t)
		r.world.Type(keypad.DeleteMyData)
		r.await(t, bus.Screen, "delete_factor")
		r.world.InsertCard("4539578763621486")
		r.await(t, bus.Screen, "delete_hover")
		r.hover(t, sim.Person{Name: "carol"})
		r.await(t, bus.Screen, "confirm_delete")
		r.withdraw(t)
		r.world.Type(keypad.Enter)
		d := r.await(t, bus.Decision, "")
		if d.Flow != "delete" || d.Outcome != "approved" {
			t.Errorf("decision = %+v, want delete/approved", d)
		}
		r.await(t, bus.Screen, "deleted")
		if got := r.requests(); !slices.Equal(got, []wire.Flow{wire.FlowDelete}) {
			t.Errorf("requests %v, want exactly one delete (the cancelled one sends nothing)", got)
		}
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		if len(r.cloud.phones) != 0 || !slices.Equal(r.cloud.cards, []string{"4539578763621486"}) {
			t.Errorf("the deletion carried phones %q and cards %q, want the card inserted alone", r.cloud.phones, r.cloud.cards)
		}
		r.assertZeroed(t)
	})
}

// TestDeleteByPhone: the phone number typed is the deletion's factor, and
// Cancel at the factor step sends nothing.
func TestDeleteByPhone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.world.Type(keypad.DeleteMyData)
		r.await(t, bus.Screen, "delete_factor")
		r.world.Type('5', '5', keypad.Cancel)
		r.await(t, bus.Screen, "kept")
		r.awaitIdle(t)
		r.world.Type(keypad.DeleteMyData)
		r.await(t, bus.Screen, "delete_factor")
		r.world.Type('5', '5', '5', keypad.Enter, '0', '1', '0', '0', '2', '0', '0', keypad.Enter) // too short first
		r.await(t, bus.Screen, "delete_hover")
		r.hover(t, sim.Person{Name: "carol"})
		r.await(t, bus.Screen, "confirm_delete")
		r.world.Type(keypad.Enter)
		if d := r.await(t, bus.Decision, ""); d.Flow != "delete" || d.Outcome != "approved" {
			t.Errorf("decision = %+v, want delete/approved", d)
		}
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		if !slices.Equal(r.cloud.phones, []string{"5550100200"}) || len(r.cloud.cards) != 0 {
			t.Errorf("the deletion carried phones %q and cards %q, want the phone typed alone", r.cloud.phones, r.cloud.cards)
		}
	})
}

func TestCameraDownWhileIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.world.Unplug(true)
		r.advance(DefaultTimeouts().CameraProbe)
		if ev := r.await(t, bus.Health, ""); ev.Reason != "camera_down" {
			t.Fatalf("health event %+v, want camera_down", ev)
		}
		r.await(t, bus.Screen, "out_of_service")
		eventually(t, func() bool {
			st := r.kiosk.Status()
			return st.Mode == ModeOutOfService && st.Reason == "camera_down" && !st.Parts[PartCamera]
		})
		r.world.Unplug(false)
		r.until(t, 100*time.Millisecond, func() bool { return r.kiosk.Status().Mode == ModeServing })
		if ev := r.await(t, bus.Health, ""); ev.Reason != "camera_up" {
			t.Fatalf("health event %+v, want camera_up", ev)
		}
		r.await(t, bus.Screen, "idle")
	})
}

// restingLight refuses its first few Set(true) calls for safety, as an LED
// driver at its duty-cycle limit does.
type restingLight struct {
	light.Light
	mu      sync.Mutex
	refuse  int
	refused chan struct{}
}

func (l *restingLight) SetBanks(b light.Banks) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b != 0 && l.refuse > 0 {
		l.refuse--
		l.refused <- struct{}{}
		return fmt.Errorf("test LEDs: %w", light.ErrSafetyLimit)
	}
	return l.Light.SetBanks(b)
}

func TestLEDSafetyLimitIsNotACameraFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rl := &restingLight{refuse: 2, refused: make(chan struct{}, 2)}
		r := newRigWith(t, rigOptions{outcome: wire.Approved, edit: func(d *Devices) { rl.Light = d.Light; d.Light = rl }})
		r.await(t, bus.Screen, "idle")
		r.hover(t, sim.Person{Name: "alice"})
		for range 2 {
			<-rl.refused
			// The kiosk rests the LEDs on its clock.
			r.advance(ledRest)
		}
		d := r.await(t, bus.Decision, "")
		if d.Outcome != "approved" {
			t.Errorf("decision = %+v, want approved", d)
		}
		for _, s := range r.world.Screens() {
			if s.Name == "out_of_service" {
				t.Error("LEDs resting for safety put the kiosk out of service")
			}
		}
	})
}

func TestBackoff(t *testing.T) {
	var b backoff
	var got []time.Duration
	for range 9 {
		got = append(got, b.next())
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff = %v", got)
		}
	}
	b.reset()
	if b.next() != 100*time.Millisecond {
		t.Error("reset did not restart the backoff")
	}
}

func TestHandLeftThereStartsNoNewSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.hover(t, sim.Person{Name: "alice"})
		r.await(t, bus.Decision, "")
		// The hand stays past the result timeout: the kiosk goes idle...
		r.until(t, time.Second, func() bool { return r.kiosk.Status().Session == "" })
		r.await(t, bus.Screen, "idle")
		for range 20 { // a second of readings with the hand still there
			r.advance(DefaultTimeouts().Presence)
		}
		if got := r.requests(); len(got) != 1 || r.world.GateOpens() != 1 {
			t.Fatalf("a hand left on the scanner started %d more sessions", len(got)-1)
		}
		// ...and only a hand that arrives again is served, even when it is
		// taken away and brought back between two readings.
		r.world.Withdraw()
		r.world.Hover(sim.Person{Name: "alice"})
		// Readings until the second session starts (not beyond: its capture
		// runs on the clock too).
		r.until(t, DefaultTimeouts().Presence, func() bool { return r.kiosk.Status().Session != "" })
		r.await(t, bus.Decision, "")
		eventually(t, func() bool { return r.world.GateOpens() == 2 })
	})
}

func TestKeysBeforeThePromptDoNotConfirm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.world.Type(keypad.DeleteMyData)
		r.await(t, bus.Screen, "delete_factor")
		r.world.InsertCard("4539578763621486")
		r.await(t, bus.Screen, "delete_hover")
		r.world.Type(keypad.Enter) // pressed while the palm is asked for
		if ev := r.await(t, bus.Dropped, ""); ev.Part != PartKeypad {
			t.Fatalf("dropped %+v, want the keypad's Enter", ev)
		}
		r.hover(t, sim.Person{Name: "carol"})
		r.await(t, bus.Screen, "confirm_delete")
		r.withdraw(t)
		r.world.Type(keypad.Cancel)
		r.await(t, bus.Screen, "kept")
		if got := r.requests(); len(got) != 0 {
			t.Errorf("an early Enter confirmed a deletion: requests %v", got)
		}
	})
}

// haltingReader blocks in Next until halted and then fails, as the Linux
// drivers do (a read the halt interrupts).
type haltingReader struct{ halted chan struct{} }

func (r *haltingReader) Next(ctx context.Context) (cardreader.Event, error) {
	<-r.halted // deliberately deaf to ctx, like a blocking read(2)
	return cardreader.Event{}, errors.New("test reader: halted")
}

func (r *haltingReader) Halt() error { close(r.halted); return nil }

func TestShutdownReportsNoInputFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hr := &haltingReader{halted: make(chan struct{})}
		r := newRigWith(t, rigOptions{edit: func(d *Devices) { d.Cards = hr }})
		r.await(t, bus.Screen, "idle")
		r.stop(t) // returns only once the readers have stopped
		r.events.Close()
		r.events.Each(func(ev bus.Event) {
			if ev.Event == bus.Health && ev.Part == PartCards {
				t.Errorf("shutdown reported a card reader failure: %+v", ev)
			}
		})
		if got := r.world.Screen().Name; got != "blank" {
			t.Errorf("screen after shutdown %q, want blank (display halted)", got)
		}
	})
}

// stuckDisplay does not return from Halt, like a driver wedged in an
// ioctl, until release is closed.
type stuckDisplay struct {
	display.Display
	release chan struct{}
}

func (d stuckDisplay) Halt() error { <-d.release; return nil }

// releaseAtEnd closes release when the test ends, before the rig stops,
// and waits for what it held: synctest.Test takes a goroutine left
// blocked in the bubble for a deadlock.
func releaseAtEnd(t *testing.T, release chan struct{}) {
	t.Cleanup(func() {
		close(release)
		synctest.Wait()
	})
}

func TestShutdownHaltIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		r := newRigWith(t, rigOptions{edit: func(d *Devices) { d.Display = stuckDisplay{d.Display, release} }})
		releaseAtEnd(t, release)
		r.await(t, bus.Screen, "idle")
		r.cancel()
		// Run waits for the halt on the clock and nothing else: move it on
		// until Run gives up on the display.
		r.until(t, DefaultTimeouts().Halt, r.returned(t))
	})
}

func TestCloudDownIsOutOfService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		r.kiosk.CloudHealth(false)
		if ev := r.await(t, bus.Health, ""); ev.Reason != "cloud_down" {
			t.Fatalf("health event %+v, want cloud_down", ev)
		}
		r.await(t, bus.Screen, "out_of_service")
		r.hover(t, sim.Person{Name: "alice"}) // nobody is served meanwhile
		if got := r.requests(); len(got) != 0 {
			t.Errorf("%d requests while the cloud was down", len(got))
		}
		r.withdraw(t)
		r.kiosk.CloudHealth(true)
		if ev := r.await(t, bus.Health, ""); ev.Reason != "cloud_up" {
			t.Fatalf("health event %+v, want cloud_up", ev)
		}
		r.awaitIdle(t)
		r.hover(t, sim.Person{Name: "alice"})
		if d := r.await(t, bus.Decision, ""); d.Outcome != "approved" {
			t.Errorf("decision after the cloud came back = %+v", d)
		}
	})
}

// A hand that arrives while the phone number is typed is the enrolment's
// palm; left there after the result, it starts no identification.
func TestHandDuringEnrolmentStartsNothingElse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.cardIn(t)
		r.hover(t, sim.Person{Name: "bob"})
		r.world.Type('5', '5', '5', '0', '1', '0', '0', '2', '0', '0', keypad.Enter)
		for range wire.MaxPerHand - 1 {
			r.rehover(t)
		}
		if d := r.await(t, bus.Decision, ""); d.Flow != "enrol" || d.Outcome != "approved" {
			t.Fatalf("decision %+v, want enrol approved", d)
		}
		r.until(t, time.Second, func() bool { return r.kiosk.Status().Session == "" })
		for range 20 {
			r.advance(DefaultTimeouts().Presence)
		}
		r.events.Close()
		r.events.Each(func(ev bus.Event) {
			if ev.Event == bus.Hover {
				t.Errorf("a %s session started for the hand left there", ev.Flow)
			}
		})
	})
}

// Both palms: 2 at the hover prompt, three captures of the left palm,
// then three of the right, in one request.
func TestEnrolBothPalms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.cardIn(t)
		r.phoneIn(t)
		r.world.Type('2')
		r.await(t, bus.Screen, "hover_left")
		r.enrolPalm(t, sim.Person{Name: "bob"})
		r.await(t, bus.Screen, "hover_right")
		r.withdraw(t)
		r.enrolPalm(t, sim.Person{Name: "bob", RightHand: true})
		if d := r.await(t, bus.Decision, ""); d.Flow != "enrol" || d.Outcome != "approved" {
			t.Fatalf("decision = %+v, want enrol approved", d)
		}
		r.withdraw(t)
		r.awaitIdle(t)
		r.cloud.mu.Lock()
		if !slices.Equal(r.cloud.hands, []string{"LLLRRR"}) {
			t.Errorf("enrolment captures %q, want three of each palm (LLLRRR)", r.cloud.hands)
		}
		r.cloud.mu.Unlock()
		r.assertZeroed(t)
	})
}

// Abandoning an enrolment at any step of its palms sends nothing and
// leaves no capture in the kiosk's buffers.
func TestEnrolAbandonedAtEveryPalmStep(t *testing.T) {
	tests := []struct {
		name    string
		both    bool
		at      string // the screen the person abandons at
		walkOff bool   // walks away instead of pressing Cancel
	}{
		{"cancel at the hover prompt", false, "hover", false},
		{"cancel at once more", false, "palm_again", false},
		{"cancel at the right palm", true, "hover_right", false},
		{"walk away at the right palm", true, "hover_right", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, wire.Approved, nil)
				r.cardIn(t)
				r.phoneIn(t)
				if tt.both {
					r.world.Type('2')
					r.await(t, bus.Screen, "hover_left")
				}
				if tt.at != "hover" {
					r.hover(t, sim.Person{Name: "bob"})
				}
				if tt.at == "hover_right" {
					for range wire.MaxPerHand - 1 {
						r.rehover(t)
					}
				}
				if tt.at != "hover" {
					r.await(t, bus.Screen, tt.at)
				}
				// With the fake clock still, the presence sensor reads
				// nothing new: the key is all the kiosk hears.
				if tt.walkOff {
					r.withdraw(t)
					r.until(t, DefaultTimeouts().Presence, func() bool { return r.kiosk.Status().Session == "" })
				} else {
					r.world.Type(keypad.Cancel)
					eventually(t, func() bool { return r.kiosk.Status().Session == "" })
				}
				if got := r.requests(); len(got) != 0 {
					t.Errorf("abandoned enrolment sent %v", got)
				}
				r.assertZeroed(t)
			})
		})
	}
}
