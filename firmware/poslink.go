package firmware

import (
	"context"
	"errors"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/pos"
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

// stopReason is why the session was ended, as the point of sale is told:
// pos, pos_gone, cloud_down (the cloud was lost: a payment whose request
// went out is voided once it is back), or kiosk (any other mode change,
// or shutdown).
func (s *session) stopReason() string {
	if w := s.stopWhy.Load(); w != nil && (*w == "pos" || *w == "pos_gone" || *w == "cloud_down") {
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
// one: at once, within Halt/2 (a void is one small request), when no
// older void waits; otherwise, or if that fails, it is queued
// (voids.go) and retried until the cloud approves it.
func (s *session) void(ref string) {
	k := s.k
	if k.voids.len() == 0 {
		ctx, cancel := k.withTimeout(context.WithoutCancel(s.ctx), k.o.Timeouts.Halt/2)
		defer cancel()
		if k.sendVoid(ctx, ref, s.id) {
			return
		}
	}
	s.queueVoid(ref)
}
