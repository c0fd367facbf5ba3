package firmware

import (
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// Age check: the point of sale asks whether the person is over N years
// (pos.Age, N in Over).
//
//	steps    age prompt → hover (Cancel cancels) → capture → seal → ask the
//	         cloud → result → answer the point of sale
//	screens  age_check, guidance, then age_ok / age_not_ok / not_recognized / …
//	request  age, with the sealed palm and N; the cloud answers only over
//	         (approved) or not over (declined): the kiosk never sees a
//	         birth date or an age
//	outcome  the point of sale gets over: true or false (approved), or
//	         declined or cancelled with the reason
var ageFlow = flow{name: wire.FlowAge, trigger: onAge, run: age}

func age(s *session, in input) {
	p := in.(posRequest)
	palm, ok := posPalm(s, p, s.k.text.ageCheck(p.req.Over))
	if !ok {
		return
	}
	dec := s.request(wire.Request{Palm: palm, Over: p.req.Over})
	if s.ctx.Err() != nil {
		s.answerPOS(p, pos.Result("", pos.Cancelled, s.stopReason()), false)
		return
	}
	s.decide(dec)
	a := declinedAnswer(dec)
	if over := dec.Outcome == wire.Approved; over || dec.Reason == "not_over" {
		a = pos.Answer{Status: pos.Approved, Over: &over, Reason: dec.Reason}
	}
	s.answerPOS(p, a, false)
	s.awaitWithdraw()
}
