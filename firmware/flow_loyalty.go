package firmware

import (
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// Loyalty: the point of sale asks for the person's loyalty id (pos.Loyalty).
//
//	steps    loyalty prompt → hover (Cancel cancels) → capture → seal → ask
//	         the cloud → result → answer the point of sale
//	screens  loyalty, guidance, then loyalty_found / not_recognized / …
//	request  loyalty, with the sealed palm
//	outcome  the point of sale gets the loyalty id (approved), or declined
//	         or cancelled with the reason; no payment, no gate
var loyaltyFlow = flow{name: wire.FlowLoyalty, trigger: onLoyalty, run: loyalty}

func loyalty(s *session, in input) {
	p := in.(posRequest)
	palm, ok := posPalm(s, p, s.k.text.loyalty())
	if !ok {
		return
	}
	dec := s.request(wire.Request{Palm: palm})
	if s.ctx.Err() != nil {
		s.answerPOS(p, pos.Result("", pos.Cancelled, s.stopReason()), false)
		return
	}
	s.decide(dec)
	a := declinedAnswer(dec)
	if dec.Outcome == wire.Approved {
		a = pos.Answer{Status: pos.Approved, Loyalty: dec.Reference}
	}
	s.answerPOS(p, a, false)
	s.awaitWithdraw()
}
