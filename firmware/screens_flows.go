package firmware

import (
	"fmt"
	"time"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// The screens of the second factor, the attempt limits and the flows the
// point of sale starts. Their words are in the catalogue (messages.go)
// like every other screen's.

// deleteFactor asks for the second factor of a deletion, showing the
// phone digits typed so far masked.
func (t *texts) deleteFactor(ph *phone) display.Screen {
	s := t.screen("delete_factor", display.Warning, display.CardIcon)
	s.Body = t.get("delete_factor.body", ph.masked())
	return s
}

// lockedOut says when the next attempt is allowed.
func (t *texts) lockedOut(wait time.Duration) display.Screen {
	s := t.screen("locked_out", display.Warning, display.WaitIcon)
	s.Body = t.get("locked_out.body", int((wait+time.Second-1)/time.Second))
	return s
}

// pay shows what the point of sale asks to be paid: merchant and amount
// drawn large.
func (t *texts) pay(r pos.Request) display.Screen {
	s := t.screen("pay", display.Info, display.HandIcon)
	s.Amount, s.Merchant = money(r.Amount, r.Currency), r.Merchant
	return s
}

// money formats an amount in minor units with two decimals (the minor unit
// of most currencies).
func money(minor int64, currency string) string {
	return fmt.Sprintf("%s %d.%02d", currency, minor/100, minor%100)
}

func (t *texts) loyalty() display.Screen { return t.screen("loyalty", display.Info, display.HandIcon) }

// ageCheck asks for the palm to check the person is over n years.
func (t *texts) ageCheck(n int) display.Screen {
	s := t.screen("age_check", display.Info, display.HandIcon)
	s.Title = t.get("age_check.title", n)
	return s
}

// flowResult is the result screen of the flows that have their own; ok is
// false for the others.
func (t *texts) flowResult(flow wire.Flow, o wire.Outcome) (display.Screen, bool) {
	switch {
	case flow == wire.FlowPay && o == wire.Approved:
		return t.screen("paid", display.Success, display.TickIcon), true
	case flow == wire.FlowPay && o == wire.Declined:
		return t.screen("pay_declined", display.Failure, display.CrossIcon), true
	case flow == wire.FlowLoyalty && o == wire.Approved:
		return t.screen("loyalty_found", display.Success, display.TickIcon), true
	case flow == wire.FlowAge && o == wire.Approved:
		return t.screen("age_ok", display.Success, display.TickIcon), true
	case flow == wire.FlowAge && o == wire.Declined:
		return t.screen("age_not_ok", display.Warning, display.CrossIcon), true
	}
	return display.Screen{}, false
}

// reasonResult is the screen of a decision whose reason has its own: an
// enrolment begun in the phone app, completed by this capture.
func (t *texts) reasonResult(reason string) (display.Screen, bool) {
	if reason == "app_enrolment_completed" {
		return t.screen("app_enrolled", display.Success, display.TickIcon), true
	}
	return display.Screen{}, false
}
