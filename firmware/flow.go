package firmware

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// trigger is what starts a flow at an idle, serving kiosk.
type trigger int

const (
	noTrigger   trigger = iota
	onHover             // a hand arrives over the scanner
	onCard              // a card is read
	onDeleteKey         // the delete-my-data key is pressed
	onPay               // the point of sale asks for a payment
	onLoyalty           // the point of sale asks for the loyalty id
	onAge               // the point of sale asks for an age check
)

// flow is one thing a person can do at the kiosk. Each lives in its own
// file (flow_*.go) that names its trigger, steps, screens, request and what
// it does with the outcome.
type flow struct {
	name    wire.Flow
	trigger trigger
	// run carries out the steps; in is the input that started the flow.
	run func(s *session, in input)
}

// flows is every flow the kiosk runs. The wire's flow list and the
// reference cloud handle exactly these.
var flows = [...]flow{identifyFlow, enrolFlow, deleteFlow, payFlow, loyaltyFlow, ageFlow}

func flowFor(t trigger) (flow, bool) {
	for _, f := range flows {
		if f.trigger == t && t != noTrigger {
			return f, true
		}
	}
	return flow{}, false
}

// trigger starts the flow in starts, if any, as the loop's one job.
func (k *Kiosk) trigger(ctx context.Context, sv *supervisor, t trigger, in input) bool {
	f, ok := flowFor(t)
	if !ok {
		return false
	}
	sctx, cancel := context.WithCancel(ctx)
	s := newSession(k, sctx, f.name)
	if p, ok := in.(posRequest); ok {
		s.pos = &p
	}
	j := &job{s: s, cancel: cancel, done: make(chan struct{}), started: k.clock.Now()}
	sv.job, sv.reinsert, sv.notice = j, false, nil
	s.emit(bus.Event{Event: bus.Hover})
	go func() {
		defer cancel()
		k.runFlow(s, f, in)
		close(j.done)
		k.post(jobDone{j: j, outcome: string(s.outcome), camera: s.camera})
	}()
	return true
}

// runFlow runs f, wiping the frame buffers whatever happens. A panic in a
// flow ends the session as a retry, logged without its value (which could
// hold a number the person typed): the kiosk serves the next person.
func (k *Kiosk) runFlow(s *session, f flow, in input) {
	defer k.zeroFrames()
	defer func() {
		if r := recover(); r != nil {
			k.o.Log.Error("flow panicked", "flow", f.name, "type", fmt.Sprintf("%T", r), "stack", string(debug.Stack()))
			wipe(in)
			s.decide(wire.Decision{Request: s.id, Outcome: wire.Retry, Reason: "internal"})
			if p, ok := in.(posRequest); ok { // the point of sale is never left waiting
				p.reply(pos.Result("", pos.Cancelled, "kiosk"))
			}
		}
	}()
	f.run(s, in)
	s.holdResult()
}

// startProbe captures one unlit frame as the loop's job, to learn whether
// the camera works, and wipes it.
func (k *Kiosk) startProbe(ctx context.Context, sv *supervisor) {
	pctx, cancel := context.WithCancel(ctx)
	j := &job{cancel: cancel, done: make(chan struct{}), started: k.clock.Now()}
	sv.job = j
	go func() {
		defer cancel()
		err := k.probeCamera(pctx)
		close(j.done)
		up := err == nil
		k.post(jobDone{j: j, camera: &up, err: err})
	}()
}
