package firmware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// session is one person's interaction, run by one flow in its own
// goroutine under the loop. Its id is the request id the cloud sees and
// binds the sealed parts to. A session hears only the input it asks for,
// while it asks (listen); the loop drops the rest.
type session struct {
	k    *Kiosk
	ctx  context.Context // cancelled when the supervisor ends the session
	id   string
	flow wire.Flow
	at   time.Time

	mu    sync.Mutex
	wants kinds
	inbox chan input

	outcome  wire.Outcome // the decision shown, if any
	reason   string       // and its reason
	resultAt time.Time    // when a result went up, if one did
	pad      bool         // presentation-attack detection ran on the capture
	pos      *posRequest  // the point of sale's request the session serves, if any
	stopWhy  atomic.Pointer[string]
	camera   *bool // whether the camera worked, if the session used it
}

// kinds is a set of input kinds a step listens for.
type kinds uint8

const (
	wantKeys kinds = 1 << iota
	wantCards
	wantPresence
)

func kindOf(in input) kinds {
	switch in.(type) {
	case keyInput:
		return wantKeys
	case cardInput:
		return wantCards
	case presenceEdge:
		return wantPresence
	}
	return 0
}

func newSession(k *Kiosk, ctx context.Context, flow wire.Flow) *session {
	var b [16]byte
	rand.Read(b[:])
	return &session{k: k, ctx: ctx, id: hex.EncodeToString(b[:]), flow: flow, at: k.clock.Now().UTC(),
		inbox: make(chan input, 64)}
}

// deliver hands in to the session if a step listens for it. It runs on the
// loop's goroutine and never blocks.
func (s *session) deliver(in input) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wants&kindOf(in) == 0 {
		return false
	}
	select {
	case s.inbox <- in:
	default: // a person cannot type 64 keys ahead of the screen
		wipe(in)
	}
	return true
}

// listen routes input of kinds to the session until the returned stop is
// called; stop wipes whatever was not read.
func (s *session) listen(k kinds) (stop func()) {
	s.mu.Lock()
	s.wants = k
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.wants = 0
		for {
			select {
			case in := <-s.inbox:
				wipe(in)
			default:
				return
			}
		}
	}
}

// recv waits up to d for input the session listens for. ok is false on
// timeout or when the session is ended.
func (s *session) recv(d time.Duration) (input, bool) {
	t := s.k.clock.NewTimer(d)
	defer t.Stop()
	select {
	case in := <-s.inbox:
		return in, true
	case <-t.Chan():
	case <-s.ctx.Done():
	}
	return nil, false
}

// awaitPresence waits up to d for a hand to be there (present) or gone.
func (s *session) awaitPresence(present bool, d time.Duration) bool {
	stop := s.listen(wantPresence)
	defer stop()
	if s.k.present.Load() == present {
		return true
	}
	deadline := s.k.clock.Now().Add(d)
	for {
		in, ok := s.recv(s.k.clock.Until(deadline))
		if !ok {
			return false
		}
		if e, ok := in.(presenceEdge); ok && e.present == present {
			return true
		}
	}
}

// wipe zeroes what an input that nobody will read holds.
func wipe(in input) {
	if c, ok := in.(cardInput); ok {
		c.ev.Card.PAN.Zero()
	}
}

func (s *session) show(sc display.Screen) {
	if s.ctx.Err() == nil { // an ended session no longer owns the display
		s.k.screen.show(sc)
	}
}

func (s *session) emit(ev bus.Event) {
	ev.Session, ev.Flow = s.id, string(s.flow)
	s.k.emit(ev)
}

func (s *session) sealContext(part string) seal.Context {
	return seal.Context{Device: s.k.o.DeviceID, Request: s.id, Time: s.at, Flow: s.flow, Part: part}
}

// request sends req (filled in with the session's id, device, flow and
// time) and returns the verified decision. A cloud that cannot be reached,
// or answers with something that does not verify, is a retry.
func (s *session) request(req wire.Request) wire.Decision {
	req.ID, req.Device, req.Flow, req.Time = s.id, s.k.o.DeviceID, s.flow, s.at
	ctx, cancel := s.k.withTimeout(s.ctx, s.k.o.Timeouts.Request)
	defer cancel()
	dec, err := s.k.o.Cloud.Do(ctx, req)
	if err != nil {
		s.k.o.Log.Warn("cloud request", "session", s.id, "flow", s.flow, "err", err)
		return wire.Decision{Request: s.id, Outcome: wire.Retry, Reason: "uplink"}
	}
	return dec
}

// decide emits and shows a session's outcome. An ended session decides
// nothing: the supervisor reports it cancelled.
func (s *session) decide(dec wire.Decision) {
	if s.ctx.Err() != nil {
		return
	}
	s.outcome, s.reason = dec.Outcome, dec.Reason
	if authenticates(s.flow) {
		s.k.attempts.record(s.k.clock.Now(), dec.Outcome, s.pad)
	}
	s.emit(bus.Event{Event: bus.Decision, Outcome: string(dec.Outcome), Reason: dec.Reason, Subject: dec.Subject})
	if sc, ok := s.k.text.reasonResult(dec.Reason); ok { // screens_flows.go
		s.showResult(sc)
		return
	}
	s.showResult(s.k.text.result(s.flow, dec.Outcome))
}

// showResult shows the screen that ends a session; it stays up at least
// resultHold (holdResult).
func (s *session) showResult(sc display.Screen) {
	s.show(sc)
	s.resultAt = s.k.clock.Now()
}

// holdResult waits, once the flow is done, until its result has been up
// for resultHold: a person who pulls their hand back at once still sees
// it. An ended session waits for nothing.
func (s *session) holdResult() {
	if s.resultAt.IsZero() {
		return
	}
	t := s.k.clock.NewTimer(resultHold - s.k.clock.Since(s.resultAt))
	defer t.Stop()
	select {
	case <-t.Chan():
	case <-s.ctx.Done():
	}
}

// lockedOut reports whether the kiosk is past its attempt limit. If it
// is, it shows when to try again and decides retry "locked_out": nothing
// is captured or sent.
func (s *session) lockedOut() bool {
	if !authenticates(s.flow) {
		return false
	}
	wait := s.k.attempts.wait(s.k.clock.Now())
	if wait == 0 || s.ctx.Err() != nil {
		return false
	}
	s.outcome, s.reason = wire.Retry, "locked_out"
	s.emit(bus.Event{Event: bus.Decision, Outcome: string(wire.Retry), Reason: "locked_out"})
	s.showResult(s.k.text.lockedOut(wait))
	return true
}

// awaitWithdraw keeps the result up until the hand leaves, or Result
// passes: a hand left there does not start a new session, since sessions
// start when a hand arrives.
func (s *session) awaitWithdraw() {
	s.awaitPresence(false, s.k.o.Timeouts.Result)
}

// askPalm shows the hover prompt and waits for the hand, then captures and
// seals it. ok is false when the session ended (no hand, a local decision
// already shown, or cancelled).
func (s *session) askPalm() (palm []byte, ok bool) {
	s.show(s.k.text.askPalm(s.flow))
	if !s.awaitPresence(true, s.k.o.Timeouts.Hover) {
		return nil, false
	}
	return s.capture()
}
