package firmware

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// fakeCloud opens what the kiosk sealed, with the real private keys, and
// answers with a fixed outcome (or an error).
type fakeCloud struct {
	palm, card *seal.Opener
	outcome    wire.Outcome
	err        error

	down atomic.Bool // the cloud cannot be reached

	mu     sync.Mutex
	phones []string
	cards  []string
	palms  int
	flows  []wire.Flow
}

func (c *fakeCloud) Connected() bool { return !c.down.Load() }

func (c *fakeCloud) Do(_ context.Context, req wire.Request) (wire.Decision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flows = append(c.flows, req.Flow)
	if c.err != nil {
		return wire.Decision{}, c.err
	}
	rec, err := c.palm.Open(seal.ContextOf(req, seal.PartPalm), req.Palm)
	if err != nil {
		return wire.Decision{}, err
	}
	if _, err := wire.ParseCapture(rec); err != nil {
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
	return wire.Decision{Request: req.ID, Outcome: c.outcome, Subject: "sub-test"}, nil
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

// testSealers returns two sealers to fresh keys.
func testSealers(t *testing.T) (palm, card *seal.Sealer) {
	palm, _ = newSealer(t)
	card, _ = newSealer(t)
	return palm, card
}

// timeouts are the defaults with a quick camera probe.
var timeouts = func() Timeouts {
	t := DefaultTimeouts()
	t.CameraProbe = 100 * time.Millisecond
	t.Result = time.Second
	return t
}()

type rig struct {
	world  *sim.World
	cloud  *fakeCloud
	kiosk  *Kiosk
	events chan Event
}

func newRig(t *testing.T, outcome wire.Outcome, cloudErr error) *rig {
	t.Helper()
	return newRigWith(t, outcome, cloudErr, nil)
}

// newRigWith lets a test replace parts of the simulated devices.
func newRigWith(t *testing.T, outcome wire.Outcome, cloudErr error, edit func(*Devices)) *rig {
	t.Helper()
	palmS, palmO := newSealer(t)
	cardS, cardO := newSealer(t)
	r := &rig{world: sim.NewWorld(), events: make(chan Event, 4096)}
	r.cloud = &fakeCloud{palm: palmO, card: cardO, outcome: outcome, err: cloudErr}
	w := r.world
	devs := Devices{Camera: w.Camera(), Light: w.Light(), Presence: w.Presence(), Display: w.Display(),
		Cards: w.Cards(), Keypad: w.Keypad(), Gate: w.Gate()}
	if edit != nil {
		edit(&devs)
	}
	k, err := New(Options{
		DeviceID: "kiosk-test-1",
		Devices:  devs,
		Cloud:    r.cloud, Palm: palmS, Card: cardS,
		Emit:     func(ev Event) { r.events <- ev },
		Timeouts: timeouts,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.kiosk = k
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- k.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		k.Close()
	})
	return r
}

// await returns the first event named name (and with screen, if given),
// failing the test after a minute.
func (r *rig) await(t *testing.T, name, screen string) Event {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev := <-r.events:
			if ev.Event == name && (screen == "" || ev.Screen == screen) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s %s event within a minute", name, screen)
		}
	}
}

// assertZeroed checks that no raw frame, palm region or record is left.
func (r *rig) assertZeroed(t *testing.T) {
	t.Helper()
	bufs := [][]byte{r.kiosk.palm.Pix, r.kiosk.plain[:cap(r.kiosk.plain)]}
	for _, p := range r.kiosk.burst {
		bufs = append(bufs, p.Lit.Pix, p.Unlit.Pix)
	}
	for i, b := range bufs {
		if slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
			t.Errorf("buffer %d still holds data after the session", i)
		}
	}
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
			r := newRig(t, tt.outcome, tt.cloudErr)
			r.await(t, EvScreen, "idle")
			r.world.Hover(sim.Person{Name: "alice"})
			sealed := r.await(t, EvSealed, "")
			d := r.await(t, EvDecision, "")
			if d.Flow != "identify" || d.Outcome != string(tt.want) || d.Session != sealed.Session {
				t.Errorf("decision = %+v, want identify/%s for session %s", d, tt.want, sealed.Session)
			}
			r.world.Withdraw()
			r.await(t, EvScreen, "idle")
			if got := r.world.GateOpens(); got != tt.opens {
				t.Errorf("gate opened %d times, want %d", got, tt.opens)
			}
			r.assertZeroed(t)
		})
	}
}

func TestEnrolSealsCardAndPhone(t *testing.T) {
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	r.world.InsertCard("4539578763621486")
	r.await(t, EvScreen, "enter_phone")
	r.world.Type('5', '5', '5', '0', '1', '0', '0', '2', '9', keypad.Backspace, '0', '0', keypad.Enter)
	r.await(t, EvScreen, "hover")
	r.world.Hover(sim.Person{Name: "bob"})
	d := r.await(t, EvDecision, "")
	if d.Flow != "enrol" || d.Outcome != "approved" {
		t.Fatalf("decision = %+v", d)
	}
	r.world.Withdraw()
	r.await(t, EvScreen, "idle")
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	if !slices.Equal(r.cloud.phones, []string{"5550100200"}) || !slices.Equal(r.cloud.cards, []string{"4539578763621486"}) {
		t.Errorf("cloud opened phones %q and cards %q", r.cloud.phones, r.cloud.cards)
	}
	r.assertZeroed(t)
}

func TestEnrolCancelledSendsNothing(t *testing.T) {
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	r.world.InsertCard("4539578763621486")
	r.await(t, EvScreen, "enter_phone")
	r.world.Type('5', '5', keypad.Enter, keypad.Cancel) // too short, then cancel
	r.await(t, EvScreen, "idle")
	r.world.InsertCard("4539578763621487") // fails Luhn: reported, kiosk stays idle
	if ev := r.await(t, EvCardError, ""); ev.Reason == "" {
		t.Errorf("card error without a reason: %+v", ev)
	}
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	if len(r.cloud.flows) != 0 {
		t.Errorf("cancelled enrolment sent requests %v", r.cloud.flows)
	}
}

func TestDeleteNeedsConfirmation(t *testing.T) {
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	r.world.Type(keypad.DeleteMyData)
	r.await(t, EvScreen, "hover")
	r.world.Hover(sim.Person{Name: "carol"})
	r.await(t, EvScreen, "confirm_delete")
	r.world.Withdraw()
	r.world.Type(keypad.Cancel)
	r.await(t, EvScreen, "kept")
	r.world.Type(keypad.DeleteMyData)
	r.await(t, EvScreen, "hover")
	r.world.Hover(sim.Person{Name: "carol"})
	r.await(t, EvScreen, "confirm_delete")
	r.world.Withdraw()
	r.world.Type(keypad.Enter)
	d := r.await(t, EvDecision, "")
	if d.Flow != "delete" || d.Outcome != "approved" {
		t.Errorf("decision = %+v, want delete/approved", d)
	}
	r.await(t, EvScreen, "deleted")
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	if !slices.Equal(r.cloud.flows, []wire.Flow{wire.FlowDelete}) {
		t.Errorf("requests %v, want exactly one delete (the cancelled one sends nothing)", r.cloud.flows)
	}
}

func TestCameraDownWhileIdle(t *testing.T) {
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	if !r.kiosk.Healthy() {
		t.Fatal("unhealthy at start")
	}
	r.world.Unplug(true)
	if ev := r.await(t, EvHealth, ""); ev.Reason != "camera_down" {
		t.Fatalf("health event %+v, want camera_down", ev)
	}
	r.await(t, EvScreen, "out_of_service")
	if r.kiosk.Healthy() {
		t.Error("healthy with the camera unplugged: the watchdog would be fed")
	}
	r.world.Unplug(false)
	if ev := r.await(t, EvHealth, ""); ev.Reason != "camera_up" {
		t.Fatalf("health event %+v, want camera_up", ev)
	}
	r.await(t, EvScreen, "idle")
	if !r.kiosk.Healthy() {
		t.Error("unhealthy after the camera came back")
	}
}

// restingLight refuses every other Set(true) for safety, as an LED driver at
// its duty-cycle limit does.
type restingLight struct {
	light.Light
	mu      sync.Mutex
	calls   int
	refused int
}

func (l *restingLight) Set(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if on {
		l.calls++
		if l.calls%2 == 1 {
			l.refused++
			return fmt.Errorf("test LEDs: %w", light.ErrSafetyLimit)
		}
	}
	return l.Light.Set(on)
}

func TestLEDSafetyLimitIsNotACameraFault(t *testing.T) {
	rl := &restingLight{}
	r := newRigWith(t, wire.Approved, nil, func(d *Devices) { rl.Light = d.Light; d.Light = rl })
	r.await(t, EvScreen, "idle")
	r.world.Hover(sim.Person{Name: "alice"})
	d := r.await(t, EvDecision, "")
	if d.Outcome != "approved" {
		t.Errorf("decision = %+v, want approved", d)
	}
	for _, s := range r.world.Screens() {
		if s.Name == "out_of_service" {
			t.Error("LEDs resting for safety put the kiosk out of service")
		}
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.refused == 0 {
		t.Error("the test light never refused: the test tests nothing")
	}
}

// brokenKeypad fails every read, as an unplugged input device does.
type brokenKeypad struct {
	mu    sync.Mutex
	reads int
}

func (k *brokenKeypad) Next(ctx context.Context) (keypad.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reads++
	return 0, errors.New("test keypad: device gone")
}

func (k *brokenKeypad) Halt() error { return nil }

func TestFailingKeypadIsPolledWithBackoff(t *testing.T) {
	kp := &brokenKeypad{}
	r := newRigWith(t, wire.Approved, nil, func(d *Devices) { d.Keypad = kp })
	r.await(t, EvScreen, "idle")
	time.Sleep(time.Second)
	kp.mu.Lock()
	defer kp.mu.Unlock()
	// 100, 200, 400, 800 ms apart: at most 5 reads in the first second.
	if kp.reads == 0 || kp.reads > 5 {
		t.Errorf("%d reads of a failing keypad in a second, want 1 to 5", kp.reads)
	}
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
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	r.world.Hover(sim.Person{Name: "alice"})
	r.await(t, EvDecision, "")
	// The hand stays past the result timeout: the kiosk goes idle...
	r.await(t, EvScreen, "idle")
	time.Sleep(500 * time.Millisecond) // five presence polls
	r.cloud.mu.Lock()
	lingered := len(r.cloud.flows)
	r.cloud.mu.Unlock()
	if lingered != 1 || r.world.GateOpens() != 1 {
		t.Fatalf("a hand left on the scanner started %d more sessions", lingered-1)
	}
	// ...and only a hand that arrives again is served.
	r.world.Withdraw()
	time.Sleep(300 * time.Millisecond) // a person takes longer than a poll
	r.world.Hover(sim.Person{Name: "alice"})
	r.await(t, EvDecision, "")
	if got := r.world.GateOpens(); got != 2 {
		t.Errorf("gate opened %d times, want 2 (one per arrival)", got)
	}
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	if len(r.cloud.flows) != 2 {
		t.Errorf("%d requests, want 2", len(r.cloud.flows))
	}
}

func TestKeysBeforeThePromptDoNotConfirm(t *testing.T) {
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	r.world.Type(keypad.DeleteMyData)
	r.await(t, EvScreen, "hover")
	r.world.Type(keypad.Enter) // pressed while the palm is captured
	r.world.Hover(sim.Person{Name: "carol"})
	r.await(t, EvScreen, "confirm_delete")
	r.world.Withdraw()
	r.world.Type(keypad.Cancel)
	r.await(t, EvScreen, "kept")
	r.cloud.mu.Lock()
	defer r.cloud.mu.Unlock()
	if len(r.cloud.flows) != 0 {
		t.Errorf("an early Enter confirmed a deletion: requests %v", r.cloud.flows)
	}
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
	hr := &haltingReader{halted: make(chan struct{})}
	w := sim.NewWorld()
	events := make(chan Event, 1024)
	palm, card := testSealers(t)
	k, err := New(Options{
		DeviceID: "kiosk-test-1",
		Devices: Devices{Camera: w.Camera(), Light: w.Light(), Presence: w.Presence(), Display: w.Display(),
			Cards: hr, Keypad: w.Keypad(), Gate: w.Gate()},
		Cloud: &fakeCloud{}, Palm: palm, Card: card, Timeouts: timeouts,
		Emit: func(ev Event) { events <- ev },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- k.Run(ctx) }()
	for ev := range events {
		if ev.Event == EvScreen && ev.Screen == "idle" {
			break
		}
	}
	cancel()
	if err := <-done; err != nil { // returns only once the readers have stopped
		t.Fatalf("Run: %v", err)
	}
	close(events)
	for ev := range events {
		if ev.Event == EvCardError {
			t.Errorf("shutdown reported a card reader failure: %+v", ev)
		}
	}
}

func TestCloudDownIsOutOfService(t *testing.T) {
	r := newRig(t, wire.Approved, nil)
	r.await(t, EvScreen, "idle")
	r.cloud.down.Store(true)
	if ev := r.await(t, EvHealth, ""); ev.Reason != "cloud_down" {
		t.Fatalf("health event %+v, want cloud_down", ev)
	}
	r.await(t, EvScreen, "out_of_service")
	r.world.Hover(sim.Person{Name: "alice"}) // nobody is served meanwhile
	time.Sleep(300 * time.Millisecond)
	r.cloud.mu.Lock()
	n := len(r.cloud.flows)
	r.cloud.mu.Unlock()
	if n != 0 {
		t.Errorf("%d requests while the cloud was down", n)
	}
	r.world.Withdraw()
	r.cloud.down.Store(false)
	if ev := r.await(t, EvHealth, ""); ev.Reason != "cloud_up" {
		t.Fatalf("health event %+v, want cloud_up", ev)
	}
	r.await(t, EvScreen, "idle")
	r.world.Hover(sim.Person{Name: "alice"})
	if d := r.await(t, EvDecision, ""); d.Outcome != "approved" {
		t.Errorf("decision after the cloud came back = %+v", d)
	}
}
