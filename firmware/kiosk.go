package firmware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/secmem"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/roi"
)

// Cloud answers a kiosk's requests with verified decisions. uplink.Client
// implements it.
type Cloud interface {
	Do(ctx context.Context, req wire.Request) (wire.Decision, error)
	// Connected reports whether the cloud can be reached now; while it
	// cannot, the kiosk is out of service.
	Connected() bool
}

// Sealer seals one part of a request to its recipient's public key.
// seal.Sealer implements it.
type Sealer interface {
	Seal(c seal.Context, plaintext []byte) ([]byte, error)
}

// Timeouts bound each step of a session, so a person who walks away leaves
// the kiosk idle again.
type Timeouts struct {
	Capture time.Duration // from hover to an accepted capture
	Input   time.Duration // for each keypad entry or confirmation
	Hover   time.Duration // for the palm to arrive once asked for
	Request time.Duration // for the cloud's decision
	Result  time.Duration // how long a decision stays on screen with the hand still there
	// CameraProbe is how often an idle kiosk checks that its camera works.
	CameraProbe time.Duration
}

// DefaultTimeouts keep an enrolment (card, phone, palm) well under a minute.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Capture: 8 * time.Second,
		Input:   20 * time.Second,
		Hover:   15 * time.Second,
		Request: 10 * time.Second,
		Result:  10 * time.Second,
		// A dead camera shows within seconds, and probing costs one
		// frame in 150.
		CameraProbe: 5 * time.Second,
	}
}

// Options configure a Kiosk. Every field but Timeouts and Log is required.
type Options struct {
	DeviceID string
	Devices  Devices
	Cloud    Cloud
	// Palm seals palm captures and phone numbers to the cloud's key.
	Palm Sealer
	// Card seals card numbers to the payment side's key.
	Card Sealer
	// Emit receives every Event; it must not block for long.
	Emit     func(Event)
	Timeouts Timeouts
	Log      *slog.Logger
}

// Kiosk runs sessions, one at a time, until its context ends.
type Kiosk struct {
	o       Options
	quality *quality.Gate
	live    *liveness.Checker
	roi     *roi.Extractor

	// The frame buffers, the palm region and the plaintext record being
	// sealed live in locked, non-dumpable memory, reused by every capture
	// and zeroed as soon as it is sealed.
	frames *secmem.Pool
	record *secmem.Pool
	burst  []liveness.Pair
	palm   *image.Gray
	plain  []byte

	cards chan cardreader.Event
	keys  chan keypad.Key

	cameraOK  atomic.Bool // false while the camera is down
	lingering bool        // the last session ended with the hand still there
}

// New checks o and prepares the vision gates and frame buffers.
func New(o Options) (*Kiosk, error) {
	d := o.Devices
	if d.Camera == nil || d.Light == nil || d.Presence == nil || d.Display == nil ||
		d.Cards == nil || d.Keypad == nil || d.Gate == nil {
		return nil, errors.New("firmware: every device is required")
	}
	if o.DeviceID == "" || o.Cloud == nil || o.Palm == nil || o.Card == nil || o.Emit == nil {
		return nil, errors.New("firmware: device id, cloud, sealers and event sink are required")
	}
	if o.Timeouts == (Timeouts{}) {
		o.Timeouts = DefaultTimeouts()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	k := &Kiosk{
		o:       o,
		quality: quality.NewGate(),
		live:    liveness.NewChecker(),
		roi:     roi.NewExtractor(),
		cards:   make(chan cardreader.Event),
		keys:    make(chan keypad.Key),
	}
	k.cameraOK.Store(true)
	if err := k.allocate(d.Camera.Bounds()); err != nil {
		return nil, errors.Join(err, k.Close())
	}
	return k, nil
}

// allocate takes the frame buffers, the palm region and the record buffer
// from locked memory pools, once for the kiosk's life.
func (k *Kiosk) allocate(r image.Rectangle) error {
	var err error
	if k.frames, err = secmem.NewPool(r.Dx()*r.Dy(), 2*liveness.BurstPairs, k.o.Log); err != nil {
		return fmt.Errorf("firmware: frame buffers: %w", err)
	}
	if k.record, err = secmem.NewPool(wire.CaptureSize(roi.Size, roi.Size), 2, k.o.Log); err != nil {
		return fmt.Errorf("firmware: record buffers: %w", err)
	}
	gray := func(p *secmem.Pool, r image.Rectangle) (*image.Gray, error) {
		b, err := p.Get(context.Background())
		if err != nil {
			return nil, err
		}
		return &image.Gray{Pix: b.Bytes()[:r.Dx()*r.Dy()], Stride: r.Dx(), Rect: r}, nil
	}
	k.burst = make([]liveness.Pair, liveness.BurstPairs)
	for i := range k.burst {
		if k.burst[i].Lit, err = gray(k.frames, r); err != nil {
			return err
		}
		if k.burst[i].Unlit, err = gray(k.frames, r); err != nil {
			return err
		}
	}
	if k.palm, err = gray(k.record, image.Rect(0, 0, roi.Size, roi.Size)); err != nil {
		return err
	}
	b, err := k.record.Get(context.Background())
	if err != nil {
		return err
	}
	k.plain = b.Bytes()[:0]
	return nil
}

// Close frees the vision gates' native memory and zeroes and unmaps the
// frame buffers.
func (k *Kiosk) Close() error {
	errs := []error{k.quality.Close(), k.live.Close(), k.roi.Close()}
	for _, p := range []*secmem.Pool{k.frames, k.record} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// Run shows the idle screen and serves sessions until ctx is cancelled, which
// is a clean stop, not an error. It halts every device before it returns.
func (k *Kiosk) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var inputs sync.WaitGroup
	inputs.Go(func() {
		forward(ctx, k.o.Devices.Cards.Next, k.cards, func(err error) {
			k.o.Log.Warn("card reader", "err", err)
			k.emit(Event{Event: EvCardError, Reason: "unreadable"})
		})
	})
	inputs.Go(func() {
		forward(ctx, k.o.Devices.Keypad.Next, k.keys, func(err error) {
			k.o.Log.Warn("keypad", "err", err)
		})
	})
	k.emit(Event{Event: EvReady})
	for ctx.Err() == nil {
		if err := k.idle(ctx); err != nil && ctx.Err() == nil {
			k.o.Log.Error("session failed", "err", err)
		}
	}
	// Stop the inputs first, so that reads the halt interrupts are not
	// reported as failures, then wait for them.
	cancel()
	if err := k.o.Devices.Halt(); err != nil {
		k.o.Log.Error("halting devices", "err", err)
	}
	inputs.Wait()
	return nil
}

// cloudDown shows "out of service" while the cloud cannot be reached (the
// uplink reconnects by itself) and reports when it is back.
func (k *Kiosk) cloudDown(ctx context.Context) {
	k.o.Log.Warn("cloud unreachable: out of service")
	k.emit(Event{Event: EvHealth, Reason: "cloud_down"})
	k.show(screenOutOfService)
	for ctx.Err() == nil && !k.o.Cloud.Connected() {
		sleep(ctx, 250*time.Millisecond)
	}
	if ctx.Err() == nil {
		k.o.Log.Info("cloud reachable again")
		k.emit(Event{Event: EvHealth, Reason: "cloud_up"})
	}
}

// Healthy reports whether the kiosk can serve people: its camera works. The
// daemon feeds the watchdog only while it does: restarting palmd mends a
// wedged process, not a lost network, so the cloud does not count.
func (k *Kiosk) Healthy() bool { return k.cameraOK.Load() }

// idle waits for someone to start a session and runs it. Every few seconds
// it checks that the camera still delivers frames, so a dead camera puts the
// kiosk out of service before anyone hovers.
func (k *Kiosk) idle(ctx context.Context) error {
	k.show(screenIdle)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	probe := time.NewTicker(k.o.Timeouts.CameraProbe)
	defer probe.Stop()
	// A hand still there from the last session does not start a new one:
	// it has to leave and come back.
	armed := !k.lingering
	k.lingering = false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-probe.C:
			if err := k.probeCamera(ctx); err != nil {
				k.cameraDown(ctx, err)
				return nil
			}
		case ev := <-k.cards:
			if ev.Kind == cardreader.Inserted {
				return k.enrol(ctx, ev.Card)
			}
		case key := <-k.keys:
			if key == keypad.DeleteMyData {
				return k.deleteMyData(ctx)
			}
		case <-poll.C:
			r, err := k.o.Devices.Presence.Read(ctx)
			if err != nil {
				k.o.Log.Warn("presence sensor", "err", err)
				continue
			}
			if !k.o.Cloud.Connected() {
				k.cloudDown(ctx)
				return nil
			}
			if r.Present && armed {
				return k.identify(ctx)
			}
			armed = !r.Present
		}
	}
}

// forward passes what next reads to out until ctx ends. A failed read is
// reported to failed and retried with backoff, so an input that keeps failing
// (unplugged) cannot flood the log; the input stays in use.
func forward[T any](ctx context.Context, next func(context.Context) (T, error), out chan<- T, failed func(error)) {
	var b backoff
	for {
		v, err := next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failed(err)
			sleep(ctx, b.next())
			continue
		}
		b.reset()
		select {
		case out <- v:
		case <-ctx.Done():
			return
		}
	}
}

func (k *Kiosk) emit(ev Event) {
	ev.Time = time.Now().UTC()
	k.o.Emit(ev)
}

func (k *Kiosk) show(s display.Screen) {
	if err := k.o.Devices.Display.Show(s); err != nil {
		k.o.Log.Warn("display", "screen", s.Name, "err", err)
	}
	k.emit(Event{Event: EvScreen, Screen: s.Name})
}

// session is one person's interaction: its id is the request id the cloud
// sees and binds the sealed parts to.
type session struct {
	id   string
	flow wire.Flow
	at   time.Time
}

func newSession(flow wire.Flow) session {
	var b [16]byte
	rand.Read(b[:])
	return session{id: hex.EncodeToString(b[:]), flow: flow, at: time.Now().UTC()}
}

func (k *Kiosk) sealContext(s session, part string) seal.Context {
	return seal.Context{Device: k.o.DeviceID, Request: s.id, Time: s.at, Flow: s.flow, Part: part}
}

// waitHover waits up to d for a hand over the scanner.
func (k *Kiosk) waitHover(ctx context.Context, d time.Duration) (bool, error) {
	return k.waitPresence(ctx, d, true)
}

// waitWithdraw waits up to d for the hand to leave.
func (k *Kiosk) waitWithdraw(ctx context.Context, d time.Duration) (bool, error) {
	return k.waitPresence(ctx, d, false)
}

func (k *Kiosk) waitPresence(ctx context.Context, d time.Duration, present bool) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		r, err := k.o.Devices.Presence.Read(ctx)
		if err == nil && r.Present == present {
			return true, nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return false, nil
			}
			return false, ctx.Err()
		case <-poll.C:
		}
	}
}

// drainKeys drops keys pressed before a prompt appeared: they do not answer it.
func (k *Kiosk) drainKeys() {
	for {
		select {
		case <-k.keys:
		default:
			return
		}
	}
}

// waitKey waits up to d for one key press.
func (k *Kiosk) waitKey(ctx context.Context, d time.Duration) (keypad.Key, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case key := <-k.keys:
		return key, true
	case <-t.C:
		return 0, false
	case <-ctx.Done():
		return 0, false
	}
}

// request sends req and returns the verified decision. A cloud that cannot be
// reached, or answers with something that does not verify, is a retry.
func (k *Kiosk) request(ctx context.Context, req wire.Request) wire.Decision {
	ctx, cancel := context.WithTimeout(ctx, k.o.Timeouts.Request)
	defer cancel()
	dec, err := k.o.Cloud.Do(ctx, req)
	if err != nil {
		k.o.Log.Warn("cloud request", "session", req.ID, "flow", req.Flow, "err", err)
		return wire.Decision{Request: req.ID, Outcome: wire.Retry, Reason: "uplink"}
	}
	return dec
}

// decide shows a session's outcome, opens the gate for an approved
// identification, emits the decision and waits for the hand to leave.
func (k *Kiosk) decide(ctx context.Context, s session, dec wire.Decision) {
	k.emit(Event{Event: EvDecision, Session: s.id, Flow: string(s.flow), Outcome: string(dec.Outcome),
		Reason: dec.Reason, Subject: dec.Subject})
	k.show(resultScreen(s.flow, dec.Outcome))
	if s.flow == wire.FlowIdentify && dec.Outcome == wire.Approved {
		if err := k.o.Devices.Gate.Open(ctx); err != nil {
			k.o.Log.Error("gate", "err", err)
		}
	}
	gone, _ := k.waitWithdraw(ctx, k.o.Timeouts.Result)
	k.lingering = !gone
}

// String keeps fmt from printing a Kiosk's buffers.
func (k *Kiosk) String() string { return fmt.Sprintf("firmware.Kiosk(%s)", k.o.DeviceID) }

// backoff paces retries of a failing input: 100 ms, doubling up to 10 s.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, 100*time.Millisecond), 10*time.Second)
	return b.d
}

func (b *backoff) reset() { b.d = 0 }
