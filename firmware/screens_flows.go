package firmware

import (
	"fmt"
	"time"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// The screens of the second factor and the attempt limits. They are kept
// apart from screens.go so that the flows and the display can change apart.

// factorScreen asks for the second factor of a deletion, showing the
// phone digits typed so far masked.
func factorScreen(ph *phone) display.Screen {
	return display.Screen{Name: "delete_factor", Title: "Confirm it's you",
		Body: "Insert the card you signed up with,\nor type your phone number and press Enter.\n" + ph.masked()}
}

// lockoutScreen says when the next attempt is allowed.
func lockoutScreen(wait time.Duration) display.Screen {
	secs := int((wait + time.Second - 1) / time.Second)
	return display.Screen{Name: "locked_out", Title: "Too many attempts",
		Body: fmt.Sprintf("Please try again in %d seconds.", secs), Tone: display.Warning}
}

// payScreen shows what the point of sale asks to be paid.
func payScreen(r pos.Request) display.Screen {
	return display.Screen{Name: "pay", Title: fmt.Sprintf("Pay %s to %s", money(r.Amount, r.Currency), r.Merchant),
		Body: "Hover your palm to pay.\nPress Cancel to cancel."}
}

// money formats an amount in minor units with two decimals (the minor unit
// of most currencies).
func money(minor int64, currency string) string {
	return fmt.Sprintf("%s %d.%02d", currency, minor/100, minor%100)
}

// flowResultScreen is the result screen of the flows that have their own;
// ok is false for the others.
func flowResultScreen(flow wire.Flow, o wire.Outcome) (display.Screen, bool) {
	switch {
	case flow == wire.FlowPay && o == wire.Approved:
		return display.Screen{Name: "paid", Title: "Paid", Body: "Thank you.", Tone: display.Success}, true
	case flow == wire.FlowPay && o == wire.Declined:
		return display.Screen{Name: "declined", Title: "Payment declined", Body: "Please pay another way.", Tone: display.Failure}, true
	case flow == wire.FlowLoyalty && o == wire.Approved:
		return display.Screen{Name: "loyalty_found", Title: "Points collected", Body: "Thank you.", Tone: display.Success}, true
	case flow == wire.FlowAge && o == wire.Approved:
		return display.Screen{Name: "age_ok", Title: "Age confirmed", Body: "Thank you.", Tone: display.Success}, true
	case flow == wire.FlowAge && o == wire.Declined:
		return display.Screen{Name: "age_not_ok", Title: "Age not confirmed", Body: "Please ask a member of staff.", Tone: display.Warning}, true
	}
	return display.Screen{}, false
}

var screenLoyalty = display.Screen{Name: "loyalty", Title: "Collect your points",
	Body: "Hover your palm to show your loyalty card.\nPress Cancel to skip."}

// ageScreen asks for the palm to check the person is over n years.
func ageScreen(n int) display.Screen {
	return display.Screen{Name: "age_check", Title: fmt.Sprintf("Age check: over %d", n),
		Body: "Hover your palm to confirm your age.\nPress Cancel to skip."}
}

// reasonScreen is the screen of a decision whose reason has its own: an
// enrolment begun in the phone app, completed by this capture.
func reasonScreen(reason string) (display.Screen, bool) {
	if reason == "app_enrolment_completed" {
		return display.Screen{Name: "app_enrolled", Title: "You're all set",
			Body: "Your sign-up from the app is complete.\nNext time, just hover your palm.", Tone: display.Success}, true
	}
	return display.Screen{}, false
}
