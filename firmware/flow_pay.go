package firmware

import (
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// posTriggers maps what a point of sale asks for to the flow it starts.
var posTriggers = map[pos.Type]trigger{pos.Pay: onPay, pos.Loyalty: onLoyalty, pos.Age: onAge}

// Pay: the point of sale asks for a payment (pos.Pay).
//
//	steps    merchant, amount and currency shown → hover (Cancel on the
//	         keypad cancels) → capture → seal → ask the cloud → result →
//	         answer the point of sale
//	screens  pay, guidance, then paid / not_recognized / pay_declined /
//	         spoof_rejected / retry / locked_out
//	request  pay, with the sealed palm and the payment (clear: message id,
//	         amount, currency, merchant); the cloud charges the enrolled
//	         card's token, once per message id
//	outcome  the point of sale is answered approved (with the reference),
//	         declined (with the reason) or cancelled (pos, pos_gone,
//	         customer, timeout, cloud_down, kiosk). A request that went out
//	         and may have charged, and was then cancelled, or an approval
//	         the point of sale could not read, is voided: at once, or, if
//	         that fails, from the void queue once the cloud is back
//	         (voids.go).
var payFlow = flow{name: wire.FlowPay, trigger: onPay, run: pay}

func pay(s *session, in input) {
	p := in.(posRequest)
	r := p.req
	palm, ok := posPalm(s, p, s.k.text.pay(r))
	if !ok {
		return
	}
	dec := s.request(wire.Request{Palm: palm, Payment: &wire.Payment{Ref: r.ID, Amount: r.Amount,
		Currency: r.Currency, Merchant: r.Merchant}})
	// No refusal came back: the cloud may hold a payment.
	maybe := dec.Outcome == wire.Approved || dec.Reason == "uplink"
	if s.ctx.Err() != nil {
		s.answerPOS(p, pos.Result("", pos.Cancelled, s.stopReason()), maybe)
		return
	}
	s.decide(dec)
	a := declinedAnswer(dec)
	if dec.Outcome == wire.Approved {
		a = pos.Answer{Status: pos.Approved, Reference: dec.Reference}
	}
	s.answerPOS(p, a, maybe)
	s.awaitWithdraw()
}

// posPalm shows sc (what the point of sale asks), waits for the hand and
// captures it. When it returns false the point of sale has been answered
// (cancelled, or declined with the local outcome).
func posPalm(s *session, p posRequest, sc display.Screen) ([]byte, bool) {
	if ok, why := awaitHandOrCancel(s, sc); !ok {
		s.answerPOS(p, pos.Result("", pos.Cancelled, why), false)
		return nil, false
	}
	palm, ok := s.capture()
	if !ok {
		if s.ctx.Err() != nil {
			s.answerPOS(p, pos.Result("", pos.Cancelled, s.stopReason()), false)
		} else {
			s.answerPOS(p, declinedAnswer(wire.Decision{Outcome: s.outcome, Reason: s.reason}), false)
		}
		s.awaitWithdraw()
		return nil, false
	}
	return palm, true
}

// declinedAnswer is the point of sale's answer to a decision that is not
// an approval: declined, with the cloud's reason or else the outcome.
func declinedAnswer(dec wire.Decision) pos.Answer {
	a := pos.Result("", pos.Declined, string(dec.Outcome))
	if dec.Reason != "" {
		a.Reason = dec.Reason
	}
	return a
}

// awaitHandOrCancel shows sc and waits for the hand while listening to the
// keypad: Cancel ends the wait. It listens before it shows, so a key
// pressed as soon as the screen is up is not lost. why says what ended it
// otherwise: customer, timeout, or why the session was stopped.
func awaitHandOrCancel(s *session, sc display.Screen) (ok bool, why string) {
	stop := s.listen(wantPresence | wantKeys)
	defer stop()
	s.show(sc)
	if s.k.present.Load() {
		return true, ""
	}
	deadline := s.k.clock.Now().Add(s.k.o.Timeouts.Hover)
	for {
		in, ok := s.recv(s.k.clock.Until(deadline))
		switch {
		case !ok && s.ctx.Err() != nil:
			return false, s.stopReason()
		case !ok:
			return false, "timeout"
		}
		switch in := in.(type) {
		case presenceEdge:
			if in.present {
				return true, ""
			}
		case keyInput:
			if in.key == keypad.Cancel {
				return false, "customer"
			}
		}
	}
}
