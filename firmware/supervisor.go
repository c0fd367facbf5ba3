package firmware

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/firmware/bus"
)

// Mode is what the supervisor lets the kiosk do.
type Mode string

// Modes, from the one that wins over every other down to serving.
const (
	ModeStarting       Mode = "starting"        // Run has not shown a screen yet
	ModeNotProvisioned Mode = "not_provisioned" // no cloud credentials installed yet
	ModeUpdating       Mode = "updating"        // firmware is being installed
	ModeMaintenance    Mode = "maintenance"     // a technician has the kiosk
	ModeOutOfService   Mode = "out_of_service"  // camera or cloud down
	ModeServing        Mode = "serving"         // people are served
)

// supervisor is the loop's state. Only Run's goroutine touches it.
type supervisor struct {
	mode                  Mode
	reason                string
	maintenance, updating bool
	unprovisioned         bool
	cameraUp, cloudUp     bool
	parts                 map[string]bool
	counters              map[string]int
	job                   *job
	pendingHover          bool // a hand arrived while a probe ran
	reinsert              bool // a card was dropped: ask for it again
	// notice is shown by an idle, serving kiosk until noticeUntil (a card
	// it could not read); nil when there is none.
	notice      *display.Screen
	noticeUntil time.Time
}

// job is the one thing that uses the camera at a time: a session or a
// camera probe.
type job struct {
	s       *session // nil for a probe
	cancel  context.CancelFunc
	done    chan struct{} // closed when the job's goroutine has finished
	started time.Time
}

// want computes the mode the inputs call for, and why.
func (sv *supervisor) want() (Mode, string) {
	switch {
	case sv.unprovisioned:
		return ModeNotProvisioned, "credentials"
	case sv.updating:
		return ModeUpdating, "update"
	case sv.maintenance:
		return ModeMaintenance, "technician"
	case !sv.cameraUp:
		return ModeOutOfService, "camera_down"
	case !sv.cloudUp:
		return ModeOutOfService, "cloud_down"
	}
	return ModeServing, ""
}

// interrupts reports whether entering m ends a running session at once.
// An update waits for the person at the kiosk to finish; a technician, a
// dead camera or a lost cloud do not.
func interrupts(m Mode) bool { return m != ModeServing && m != ModeUpdating }

// Run (once) shows the first screen, sends READY through ready (if not nil), and
// serves until ctx is cancelled, which is a clean stop, not an error. It
// halts every device, within Timeouts.Halt, before it returns.
func (k *Kiosk) Run(ctx context.Context, ready func()) error {
	inputs, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	k.startInputs(inputs, &wg)
	wg.Go(func() { k.runVoids(inputs) })

	sv := &supervisor{cameraUp: true, parts: map[string]bool{}, counters: map[string]int{}}
	heartbeat := k.clock.NewTicker(k.o.Timeouts.Heartbeat)
	defer heartbeat.Stop()
	probe := k.clock.NewTimer(k.o.Timeouts.CameraProbe)
	defer probe.Stop()
	k.beat.Store(k.clock.Now().UnixNano())

	// What was posted before Run (the cloud's first health report) counts
	// for the first screen.
	for pending := true; pending; {
		select {
		case in := <-k.in:
			k.step(ctx, sv, in)
		default:
			pending = false
		}
	}
	k.settle(sv)
	k.tell(sv, bus.Event{Event: bus.Ready, Mode: string(sv.mode)})
	if ready != nil {
		ready()
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-heartbeat.Chan():
			k.heartbeat(sv)
			if sv.notice != nil && !k.clock.Now().Before(sv.noticeUntil) {
				sv.notice = nil
				k.settle(sv)
			}
		case <-probe.Chan():
			// An idle, serving kiosk checks its camera every few
			// seconds; a camera that is down is retried at the same pace.
			if sv.job == nil && (sv.mode == ModeServing || !sv.cameraUp) {
				k.startProbe(ctx, sv)
			}
			probe.Reset(k.probeEvery(sv))
		case in := <-k.in:
			k.step(ctx, sv, in)
		}
		k.publish(sv)
	}
	// Shutdown: end the session, stop the inputs, halt every part.
	if sv.job != nil {
		k.endJob(sv, "shutdown")
	}
	stop()
	heartbeat.Stop()
	probe.Stop()
	k.halt()
	wg.Wait()
	if n := k.voids.len(); n > 0 && k.voids.path == "" {
		k.o.Log.Error("voids lost with palmd's exit (no update.dir): payments may stand that the point of sale was not told of", "voids", n)
	}
	// Nothing reads the inputs any more: wipe what is left of them.
	close(k.stopped)
	for {
		select {
		case in := <-k.in:
			wipe(in)
		default:
			return nil
		}
	}
}

// probeEvery is how often the camera is probed: every CameraProbe while it
// works, every second while it is down, so that it is back in service soon
// after it is plugged in again.
func (k *Kiosk) probeEvery(sv *supervisor) time.Duration {
	if !sv.cameraUp {
		return min(time.Second, k.o.Timeouts.CameraProbe)
	}
	return k.o.Timeouts.CameraProbe
}

// step is the loop's one reaction to one input.
func (k *Kiosk) step(ctx context.Context, sv *supervisor, in input) {
	switch in := in.(type) {
	case presenceEdge:
		k.present.Store(in.present)
		if sv.job != nil && sv.job.s != nil && sv.job.s.deliver(in) {
			return
		}
		if in.present && sv.mode == ModeServing {
			switch {
			case sv.job == nil:
				k.trigger(ctx, sv, onHover, in)
			case sv.job.s == nil: // a probe: serve the hand once it is done
				sv.pendingHover = true
			}
			// A hand that arrives during a session that does not ask
			// for it starts nothing, then or later.
		}
		if !in.present {
			sv.pendingHover = false
		}
	case cardInput, keyInput:
		part := partOf(in)
		if sv.job != nil && sv.job.s != nil && sv.job.s.deliver(in) {
			return
		}
		if sv.job == nil && sv.mode == ModeServing && k.trigger(ctx, sv, triggerOf(in), in) {
			return
		}
		// Nobody asked for it: drop it, and wipe what it held. A card
		// read now is asked for again once the kiosk is idle. In
		// maintenance the technician is testing the part: the event says
		// what came (a card's last four digits, a key's name).
		var what string
		if c, ok := in.(cardInput); ok {
			if sv.mode == ModeMaintenance {
				what = "card_" + c.ev.Card.PAN.Last4()
			}
			c.ev.Card.PAN.Zero()
			if c.ev.Kind != cardreader.Inserted {
				return // a card taken out is nothing to report
			}
			if sv.mode != ModeMaintenance {
				sv.reinsert = true
			}
		}
		if key, ok := in.(keyInput); ok && sv.mode == ModeMaintenance {
			what = key.key.String()
		}
		sv.counters["dropped_"+part]++
		k.tell(sv, bus.Event{Event: bus.Dropped, Part: part, Reason: what})
	case posRequest, posGone:
		k.stepPOS(ctx, sv, in)
	case inputError:
		sv.counters["input_errors_"+in.part]++
		if in.part == PartCards {
			k.tell(sv, bus.Event{Event: bus.CardError, Reason: in.reason})
			// A bad swipe at an idle kiosk is answered on the screen.
			if sv.job == nil {
				n := k.text.cardUnreadable()
				sv.notice, sv.noticeUntil = &n, k.clock.Now().Add(noticeHold)
			}
		}
	case partHealth:
		k.health(sv, in.part, in.up)
		if in.part == PartCamera && sv.cameraUp != in.up {
			sv.cameraUp = in.up
		}
	case cloudHealth:
		sv.cloudUp = in.up
		k.health(sv, PartCloud, in.up)
		if in.up {
			k.voids.kick() // the voids that wait are retried at once
		}
	case command:
		sv.counters["commands"]++
		k.o.Log.Info("cloud command", "type", in.c.Type)
		k.tell(sv, bus.Event{Event: bus.Command, Reason: string(in.c.Type)})
	case modeRequest:
		if in.maintenance != nil {
			sv.maintenance = *in.maintenance
		}
		if in.updating != nil {
			sv.updating = *in.updating
		}
		if in.provisioned != nil {
			sv.unprovisioned = !*in.provisioned
		}
	case jobDone:
		if sv.job != in.j {
			return // ended earlier by endJob
		}
		sv.job = nil
		if in.j.s != nil {
			sv.counters["sessions"]++
			if in.outcome != "" {
				sv.counters["outcome_"+in.outcome]++
			}
		}
		if in.camera != nil {
			k.step(ctx, sv, partHealth{part: PartCamera, up: *in.camera, err: in.err})
		}
		if sv.pendingHover && k.present.Load() {
			sv.pendingHover = false
			k.settle(sv)
			if sv.mode == ModeServing {
				k.trigger(ctx, sv, onHover, presenceEdge{present: true})
				return
			}
		}
	}
	k.settle(sv)
}

// health records a part's health. A part that goes down, or comes back
// after it was down, is reported; one that was never reported down and
// works is news to nobody.
func (k *Kiosk) health(sv *supervisor, part string, up bool) {
	was, known := sv.parts[part]
	sv.parts[part] = up
	if known && was == up || !known && up {
		return
	}
	k.o.Log.Info("part health", "part", part, "up", up)
	k.tell(sv, bus.Event{Event: bus.Health, Part: part, Reason: healthReason(part, up)})
}

// settle brings the mode in line with what the inputs call for, ends a
// running session if the new mode interrupts it, and, when no job runs,
// shows the mode's screen.
func (k *Kiosk) settle(sv *supervisor) {
	m, why := sv.want()
	if m != sv.mode || why != sv.reason {
		k.o.Log.Info("mode", "mode", m, "reason", why)
		sv.mode, sv.reason = m, why
		k.tell(sv, bus.Event{Event: bus.Mode, Mode: string(m), Reason: why})
		if sv.job != nil && sv.job.s != nil && interrupts(m) {
			k.endJob(sv, why)
		}
	}
	if sv.job == nil {
		k.screen.show(k.modeScreen(sv))
	}
}

// modeScreen is what an idle kiosk shows in its mode.
func (k *Kiosk) modeScreen(sv *supervisor) display.Screen {
	switch {
	case sv.mode != ModeServing:
		return k.text.modeScreen(sv.mode)
	case sv.notice != nil:
		return *sv.notice
	case sv.reinsert:
		return k.text.reinsertCard()
	}
	return k.text.modeScreen(sv.mode)
}

// endJob cancels the running job and waits for it, at most Timeouts.Halt:
// a session wipes its buffers and sealed data on the way out. A cancelled
// session emits "cancelled" with why. A job deaf to its context (a driver
// wedged in a call) is left behind: it no longer owns the display, and the
// watchdog ends the process once its budget has run out.
func (k *Kiosk) endJob(sv *supervisor, why string) {
	j := sv.job
	sv.job = nil
	if j.s != nil {
		j.s.stopWhy.CompareAndSwap(nil, &why) // unless the point of sale ended it
	}
	j.cancel()
	select {
	case <-j.done:
	case <-k.clock.After(k.o.Timeouts.Halt):
		k.o.Log.Error("a job did not end when cancelled", "reason", why)
		k.wedged.Store(true)
	}
	if j.s == nil {
		return
	}
	k.tell(sv, bus.Event{Event: bus.Cancelled, Session: j.s.id, Flow: string(j.s.flow), Reason: why})
}

// heartbeat records that the loop makes progress, unless a job overran
// its budget: then the loop is healthy but the kiosk is not, and the
// watchdog must see it.
func (k *Kiosk) heartbeat(sv *supervisor) {
	if sv.job != nil && k.clock.Since(sv.job.started) > k.o.Timeouts.budget() {
		if !k.wedged.Swap(true) {
			k.o.Log.Error("a job overran its budget: the watchdog is no longer fed")
		}
		return
	}
	k.beat.Store(k.clock.Now().UnixNano())
}

// tell publishes the status, then emits ev: whoever reads an event the
// loop emits (a part's health, a counted error, a mode) and then asks for
// the status reads the state the event reported.
func (k *Kiosk) tell(sv *supervisor, ev bus.Event) {
	k.publish(sv)
	k.emit(ev)
}

// publish stores the status snapshot the console and tests read.
func (k *Kiosk) publish(sv *supervisor) {
	st := &Status{Mode: sv.mode, Reason: sv.reason, Parts: maps.Clone(sv.parts), Present: k.present.Load(),
		Counters: maps.Clone(sv.counters)}
	if sv.job != nil && sv.job.s != nil {
		st.Session = string(sv.job.s.flow)
	}
	k.status.Store(st)
}

// halt returns every part to its inert state, waiting at most
// Timeouts.Halt: a part whose halt hangs is logged, not waited for.
func (k *Kiosk) halt() {
	done := make(chan error, 1)
	go func() { done <- k.o.Devices.Halt() }()
	select {
	case err := <-done:
		if err != nil {
			k.o.Log.Error("halting devices", "err", err)
		}
	case <-k.clock.After(k.o.Timeouts.Halt):
		k.o.Log.Error("halting devices: a part did not halt in time", "timeout", k.o.Timeouts.Halt)
	}
}

func healthReason(part string, up bool) string {
	name := part
	switch part {
	case PartCards:
		name = "card_reader"
	}
	if up {
		return name + "_up"
	}
	return name + "_down"
}

// triggerOf is the kind of trigger an input is.
func triggerOf(in input) trigger {
	switch in := in.(type) {
	case cardInput:
		if in.ev.Kind == cardreader.Inserted {
			return onCard
		}
	case keyInput:
		if in.key == keypad.DeleteMyData {
			return onDeleteKey
		}
	case presenceEdge:
		if in.present {
			return onHover
		}
	case posRequest:
		return posTriggers[in.req.Type]
	}
	return noTrigger
}
