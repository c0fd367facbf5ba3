package firmware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// POS returns the kiosk's side of the point-of-sale link, for a
// pos.Server: requests and departures reach the loop as inputs.
func (k *Kiosk) POS() pos.Handler { return posHandler{k} }

type posHandler struct{ k *Kiosk }

func (h posHandler) Request(conn uint64, r pos.Request, reply func(pos.Answer) error) {
	h.k.post(posRequest{conn: conn, req: r, reply: reply})
}

func (h posHandler) Gone(conn uint64) { h.k.post(posGone{conn: conn}) }

// stepPOS is the loop's reaction to the point of sale: a cancel or a
// departure stops the session it concerns; any other request starts its
// flow at an idle, serving kiosk and is otherwise answered at once.
func (k *Kiosk) stepPOS(ctx context.Context, sv *supervisor, in input) {
	var s *session
	if sv.job != nil {
		s = sv.job.s
	}
	ours := func(conn uint64, id string) bool {
		return s != nil && s.pos != nil && s.pos.conn == conn && (id == "" || s.pos.req.ID == id)
	}
	switch in := in.(type) {
	case posGone:
		if ours(in.conn, "") {
			s.stop(sv.job, "pos_gone")
		}
	case posRequest:
		answer := func(st pos.Status, reason string) {
			if err := in.reply(pos.Result("", st, reason)); err != nil {
				k.o.Log.Info("pos answer not delivered", "err", err)
			}
		}
		switch {
		case in.req.Type == pos.Cancel && ours(in.conn, in.req.Ref):
			s.stop(sv.job, "pos")
			answer(pos.OK, "")
		case in.req.Type == pos.Cancel:
			answer(pos.UnknownRef, "")
		case sv.mode != ModeServing:
			answer(pos.Unavailable, string(sv.mode))
		case sv.job != nil && sv.job.s != nil:
			answer(pos.Busy, "")
		default:
			if sv.job != nil { // a camera probe: it ends in a frame's time
				k.endJob(sv, "pos")
			}
			if !k.trigger(ctx, sv, triggerOf(in), in) {
				answer(pos.Unavailable, "not_supported")
			}
		}
	}
}

// stop ends the session for why (pos, pos_gone): its flow answers the
// point of sale and takes back whatever may have been charged.
func (s *session) stop(j *job, why string) {
	s.stopWhy.Store(&why)
	j.cancel()
}

// stopReason is why the session was ended: pos, pos_gone, or kiosk (a mode
// change or shutdown).
func (s *session) stopReason() string {
	if w := s.stopWhy.Load(); w != nil {
		return *w
	}
	return "kiosk"
}

// answerPOS answers the point of sale. charged tells whether the cloud may
// hold a payment for the request the answer does not approve (the request
// went out and no refusal came back), or an approval the POS could not
// read: that payment is voided, and the POS is answered cancelled.
func (s *session) answerPOS(p posRequest, a pos.Answer, charged bool) {
	err := p.reply(a)
	s.emit(bus.Event{Event: bus.POSAnswer, Outcome: string(a.Status), Reason: a.Reason})
	if a.Status == pos.Approved && errors.Is(err, pos.ErrGone) {
		charged = true
		a = pos.Result("", pos.Cancelled, "pos_gone")
	} else if !charged || a.Status == pos.Approved {
		return
	}
	s.void(p.req.ID)
	if a.Status == pos.Cancelled {
		p.reply(a) // the POS that asked is gone: this is for the stored answer
	}
}

// void takes back the payment of the POS message ref, if the cloud made
// one, within Halt (a void is one small request), trying again once.
func (s *session) void(ref string) {
	k := s.k
	for try := 0; try < 2; try++ {
		var b [16]byte
		rand.Read(b[:])
		req := wire.Request{ID: hex.EncodeToString(b[:]), Device: k.o.DeviceID, Flow: wire.FlowVoid,
			Time: k.clock.Now().UTC(), Payment: &wire.Payment{Ref: ref}}
		ctx, cancel := k.withTimeout(context.WithoutCancel(s.ctx), k.o.Timeouts.Halt/2)
		dec, err := k.o.Cloud.Do(ctx, req)
		cancel()
		if err == nil && dec.Outcome == wire.Approved {
			s.emit(bus.Event{Event: bus.Voided, Reason: dec.Reason})
			return
		}
		k.o.Log.Warn("void", "session", s.id, "try", try+1, "err", err, "outcome", dec.Outcome)
	}
	k.o.Log.Error("a payment may stand that the point of sale was not told of: void failed", "session", s.id)
}
