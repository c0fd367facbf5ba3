package firmware

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/secmem"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/roi"
)

// Cloud answers a kiosk's requests with verified decisions. uplink.Client
// implements it. Whether the cloud can be reached is pushed to the kiosk
// (CloudHealth), never polled.
type Cloud interface {
	Do(ctx context.Context, req wire.Request) (wire.Decision, error)
}

// Sealer seals one part of a request to its recipient's public key.
// seal.Sealer implements it.
type Sealer interface {
	Seal(c seal.Context, plaintext []byte) ([]byte, error)
}

// Timeouts bound each step of a session, so a person who walks away leaves
// the kiosk idle again, and pace the supervisor.
type Timeouts struct {
	Capture time.Duration // from hover to an accepted capture
	Input   time.Duration // for each keypad entry or confirmation
	Hover   time.Duration // for the palm to arrive once asked for
	Request time.Duration // for the cloud's decision
	Result  time.Duration // how long a decision stays on screen with the hand still there
	// CameraProbe is how often an idle kiosk checks that its camera works.
	CameraProbe time.Duration
	// Presence is how often the presence sensor is read (its ranging rate).
	Presence time.Duration
	// Heartbeat is how often the loop proves it makes progress.
	Heartbeat time.Duration
	// Halt bounds the halt of every device at shutdown.
	Halt time.Duration
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
		// The VL53L0X ranges every 33 ms in its default mode.
		Presence:  50 * time.Millisecond,
		Heartbeat: time.Second,
		Halt:      2 * time.Second,
	}
}

// budget is the longest a session may take: every step's deadline, with a
// margin. A session older than this is wedged (a driver deaf to its
// context) and the watchdog is no longer fed.
func (t Timeouts) budget() time.Duration {
	return 2 * (wire.MaxEnrolCaptures*(t.Capture+t.Hover) + 4*t.Input + t.Request + t.Result)
}

// Options configure a Kiosk. Every field but Clock, Timeouts, Log and
// Language is required.
type Options struct {
	DeviceID string
	Devices  Devices
	Cloud    Cloud
	// Palm seals palm captures and phone numbers to the cloud's key.
	Palm Sealer
	// Card seals card numbers to the payment side's key.
	Card Sealer
	// Bus receives every event the kiosk publishes.
	Bus *bus.Bus
	// Clock is the time every step and timer reads; the real clock if nil.
	Clock    clockwork.Clock
	Timeouts Timeouts
	Log      *slog.Logger
	// Language is the screens' language, one of Languages(); "" is
	// English.
	Language string
	// DataDir is palmd's directory on the data partition (config
	// update.dir): the void queue is kept there (VoidsFile). Empty keeps
	// it in memory only: a restart loses the voids that wait.
	DataDir string
	// Patterns, if set, is what each capture's lighting pattern is drawn
	// from (liveness.PatternFrom) instead of crypto/rand
	// (liveness.NewPattern). A pattern that can be predicted is one a
	// projector can follow: only simulations and tests set it, so that a
	// run can be repeated. One capture at a time draws from it.
	Patterns rand.Source
}

// Kiosk is the kiosk's core: one goroutine (Run's) owns its state; every
// change reaches it as a typed input on one channel; a supervisor decides
// the mode; sessions run one at a time under it.
type Kiosk struct {
	o       Options
	clock   clockwork.Clock
	in      chan input    // everything that happens, to the loop
	stopped chan struct{} // closed when Run has returned

	quality *quality.Gate
	live    *liveness.Checker
	roi     *roi.Extractor

	// The frame buffers, the palm region and the plaintext record being
	// sealed live in locked, non-dumpable memory, reused by every capture
	// and zeroed as soon as it is sealed. One job at a time uses them.
	// So do the gate's, liveness's and the region extractor's working
	// copies of the frames (vision), zeroed before each returns.
	frames  *secmem.Pool
	record  *secmem.Pool
	work    *secmem.Pool
	burst   liveness.Burst
	pattern []uint8       // the banks each frame of the burst is lit by
	lit     []*image.Gray // the burst's lit frames, the palm region is cut from
	palm    *image.Gray
	plain   []byte

	screen   screenState
	attempts attempts // consecutive failed biometric attempts, and the delay they set
	voids    *voids   // voids waiting for the cloud's approval
	text     *texts
	present  atomic.Bool  // the loop's view of the presence sensor
	distance atomic.Int64 // the presence sensor's last distance, mm (0: none)
	beat     atomic.Int64 // clock time (ns) of the loop's last heartbeat
	wedged   atomic.Bool  // a job overran its budget

	status atomic.Pointer[Status]
}

// New checks o and prepares the vision gates and frame buffers.
func New(o Options) (*Kiosk, error) {
	d := o.Devices
	if d.Camera == nil || d.Light == nil || d.Presence == nil || d.Display == nil ||
		d.Cards == nil || d.Keypad == nil || d.Gate == nil {
		return nil, errors.New("firmware: every device is required")
	}
	if o.DeviceID == "" || o.Cloud == nil || o.Palm == nil || o.Card == nil || o.Bus == nil {
		return nil, errors.New("firmware: device id, cloud, sealers and event bus are required")
	}
	if o.Timeouts == (Timeouts{}) {
		o.Timeouts = DefaultTimeouts()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	text, err := newTexts(o.Language)
	if err != nil {
		return nil, err
	}
	queue, qerr := openVoids(o.DataDir, MaxVoids)
	k := &Kiosk{
		o:       o,
		clock:   o.Clock,
		in:      make(chan input, 256),
		stopped: make(chan struct{}),
		text:    text,
		voids:   queue,
	}
	k.screen.k = k
	if qerr != nil {
		o.Log.Error("void queue not loaded: payments may stand that the point of sale was not told of", "err", qerr)
		k.emit(bus.Event{Event: bus.Health, Part: PartVoids, Reason: "voids_unreadable"})
	}
	k.status.Store(&Status{Mode: ModeStarting})
	if err := k.allocate(d.Camera.Bounds()); err != nil {
		return nil, errors.Join(err, k.Close())
	}
	return k, nil
}

// allocate takes the frame buffers, the vision workspace, the palm region
// and the record buffer from locked memory pools, once for the kiosk's
// life.
func (k *Kiosk) allocate(r image.Rectangle) error {
	var err error
	if k.frames, err = secmem.NewPool(r.Dx()*r.Dy(), liveness.BurstFrames, k.o.Log); err != nil {
		return fmt.Errorf("firmware: frame buffers: %w", err)
	}
	// One workspace for the gate, liveness and the region extractor, one
	// after the other (each size is a multiple of 64 bytes, so each part
	// stays aligned).
	sizes := []int{quality.WorkspaceSize(r.Size()), liveness.WorkspaceSize(r.Size()), roi.WorkspaceSize(r.Size())}
	if k.work, err = secmem.NewPool(sizes[0]+sizes[1]+sizes[2], 1, k.o.Log); err != nil {
		return fmt.Errorf("firmware: vision workspace: %w", err)
	}
	wb, err := k.work.Get(context.Background())
	if err != nil {
		return err
	}
	work := wb.Bytes()
	k.quality = quality.NewGateIn(work[:sizes[0]])
	k.live = liveness.NewCheckerIn(work[sizes[0] : sizes[0]+sizes[1]])
	k.roi = roi.NewExtractorIn(work[sizes[0]+sizes[1]:])
	// The record buffer holds an enrolment's every capture (both palms).
	if k.record, err = secmem.NewPool(wire.EnrolSize(wire.MaxEnrolCaptures, roi.Size, roi.Size), 2, k.o.Log); err != nil {
		return fmt.Errorf("firmware: record buffers: %w", err)
	}
	gray := func(p *secmem.Pool, r image.Rectangle) (*image.Gray, error) {
		b, err := p.Get(context.Background())
		if err != nil {
			return nil, err
		}
		return &image.Gray{Pix: b.Bytes()[:r.Dx()*r.Dy()], Stride: r.Dx(), Rect: r}, nil
	}
	k.burst.Frames = make([]liveness.Frame, liveness.BurstFrames)
	k.lit = make([]*image.Gray, 0, liveness.BurstFrames)
	k.pattern = make([]uint8, liveness.BurstFrames)
	for i := range k.burst.Frames {
		if k.burst.Frames[i].Img, err = gray(k.frames, r); err != nil {
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
	var errs []error
	if k.quality != nil {
		errs = append(errs, k.quality.Close())
	}
	if k.live != nil {
		errs = append(errs, k.live.Close())
	}
	if k.roi != nil {
		errs = append(errs, k.roi.Close())
	}
	for _, p := range []*secmem.Pool{k.frames, k.record, k.work} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// CloudHealth tells the kiosk whether the cloud can be reached. The uplink
// pushes it (uplink.OnHealth); it may be called before Run.
func (k *Kiosk) CloudHealth(up bool) { k.post(cloudHealth{up: up}) }

// Command hands the kiosk a verified cloud command (uplink.OnCommand).
func (k *Kiosk) Command(c wire.Command) { k.post(command{c: c}) }

// Maintenance puts the kiosk in (on) or out of maintenance: a technician has
// it. A session that runs is ended first.
func (k *Kiosk) Maintenance(on bool) { k.post(modeRequest{maintenance: &on}) }

// Updating puts the kiosk in (on) or out of the updating mode. A session
// that runs is allowed to finish first; no new one starts.
func (k *Kiosk) Updating(on bool) { k.post(modeRequest{updating: &on}) }

// Provisioned tells the kiosk whether its cloud credentials and signed
// config are installed. Until they are, it serves nobody and says so.
func (k *Kiosk) Provisioned(ok bool) { k.post(modeRequest{provisioned: &ok}) }

// post hands one input to the loop. The channel is deep enough for every
// part to be bursty; a loop that does not read for that long is wedged and
// the watchdog says so. Once Run has returned, input is dropped (and
// wiped): a late callback from the uplink does not block.
func (k *Kiosk) post(in input) {
	select {
	case k.in <- in:
	case <-k.stopped:
		wipe(in)
	}
}

// Status is a snapshot of the supervisor's view, for the console and tests.
type Status struct {
	Mode    Mode
	Reason  string          // why the mode is what it is (camera_down, …)
	Parts   map[string]bool // health by part name (Part*); absent: not known yet
	Present bool            // a hand is over the scanner
	Session string          // the running session's flow, if any
	// Counters by name: sessions, decisions by outcome, input errors by
	// part, dropped input by part; and voids_pending, the voids that
	// wait for the cloud's approval now.
	Counters map[string]int
}

// Status returns the latest snapshot.
func (k *Kiosk) Status() Status {
	st := *k.status.Load()
	st.Counters = maps.Clone(st.Counters)
	if st.Counters == nil {
		st.Counters = map[string]int{}
	}
	st.Counters["voids_pending"] = k.voids.len()
	return st
}

// DistanceMM is the presence sensor's last reading in millimetres, 0 when
// nothing is in range (for the console's presence test).
func (k *Kiosk) DistanceMM() int { return int(k.distance.Load()) }

// Healthy reports whether the loop makes progress: its last heartbeat is
// recent and no job overran its budget. The daemon feeds the watchdog only
// while it holds; a lost network does not count, since restarting palmd
// does not mend it.
func (k *Kiosk) Healthy() bool {
	if k.wedged.Load() {
		return false
	}
	last := time.Unix(0, k.beat.Load())
	return k.clock.Since(last) <= 3*k.o.Timeouts.Heartbeat
}

func (k *Kiosk) emit(ev bus.Event) {
	ev.Time = k.clock.Now().UTC()
	k.o.Bus.Publish(ev)
}

// withTimeout is context.WithTimeout on the kiosk's clock: when d passes,
// the context ends with cause context.DeadlineExceeded.
func (k *Kiosk) withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	t := k.clock.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// String keeps fmt from printing a Kiosk's buffers.
func (k *Kiosk) String() string { return fmt.Sprintf("firmware.Kiosk(%s)", k.o.DeviceID) }

// screenState is what the display shows. The loop shows mode screens only
// while no session runs, and a session only while it runs, but both go
// through here so that a screen event is emitted once per change.
type screenState struct {
	k    *Kiosk
	mu   sync.Mutex
	name string
}

// show draws s. A screen whose name is already up is redrawn (the typed
// digits change) without a new event.
func (st *screenState) show(s display.Screen) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.k.o.Devices.Display.Show(s); err != nil {
		st.k.o.Log.Warn("display", "screen", s.Name, "err", err)
	}
	if s.Name != st.name {
		st.name = s.Name
		st.k.emit(bus.Event{Event: bus.Screen, Screen: s.Name})
	}
}
