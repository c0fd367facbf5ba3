package firmware

import (
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/quality"
)

// The kiosk's screens. Names are stable: tests, scenarios and telemetry use them.
var (
	screenIdle = display.Screen{Name: "idle", Title: "Hover your palm",
		Body: "Hold your hand flat above the scanner.\nNew here? Insert your card to sign up."}
	screenHover = display.Screen{Name: "hover", Title: "Hover your palm",
		Body: "Hold your hand flat, about a hand's width above the scanner."}
	screenConfirmDelete = display.Screen{Name: "confirm_delete", Title: "Delete your palm data?",
		Body: "Press Enter to delete it from our service.\nPress Cancel to keep it.", Tone: display.Warning}
	screenKept = display.Screen{Name: "kept", Title: "Nothing was deleted",
		Body: "Your palm data is unchanged."}
	screenOutOfService = display.Screen{Name: "out_of_service", Title: "Out of service",
		Body: "This kiosk is being fixed. Please use another one.", Tone: display.Failure}
	screenNotProvisioned = display.Screen{Name: "not_provisioned", Title: "Not set up yet",
		Body: "This kiosk is waiting to be set up by a technician.", Tone: display.Warning}
	screenMaintenance = display.Screen{Name: "maintenance", Title: "Maintenance",
		Body: "A technician is working on this kiosk. Please use another one.", Tone: display.Warning}
	screenUpdating = display.Screen{Name: "updating", Title: "Updating",
		Body: "This kiosk is installing an update and will be back in a few minutes.", Tone: display.Warning}
	screenReinsertCard = display.Screen{Name: "reinsert_card", Title: "Please insert your card again",
		Body: "Take your card out, then insert it again to sign up.\nOr hover your palm.", Tone: display.Warning}
)

func phoneScreen(pan cardreader.PAN, ph *phone) display.Screen {
	return display.Screen{Name: "enter_phone", Title: "Card " + pan.Masked() + " read",
		Body: "Type your phone number, then press Enter.\n" + ph.masked()}
}

// guidanceScreen tells the person what to change. Screen names say which
// way: move_lower, move_higher, move_centre, hold_still, shade, hover.
func guidanceScreen(r quality.Reason) display.Screen {
	g := func(name, body string) display.Screen {
		return display.Screen{Name: name, Title: "Almost there", Body: body}
	}
	switch r {
	case quality.TooFar, quality.TooDark:
		return g("move_lower", "Move your hand a little lower.")
	case quality.TooClose:
		return g("move_higher", "Move your hand a little higher.")
	case quality.OffCentre:
		return g("move_centre", "Move your hand to the centre.")
	case quality.Blurred, quality.Moving:
		return g("hold_still", "Hold still for a moment.")
	case quality.TooBright:
		return g("shade", "Shade the scanner from direct light.")
	default:
		return g("hover", "Hold your hand flat above the scanner.")
	}
}

func resultScreen(flow wire.Flow, o wire.Outcome) display.Screen {
	if sc, ok := flowResultScreen(flow, o); ok { // screens_flows.go
		return sc
	}
	switch {
	case o == wire.Approved && flow == wire.FlowEnrol:
		return display.Screen{Name: "enrolled", Title: "You're signed up", Body: "Next time, just hover your palm.", Tone: display.Success}
	case o == wire.Approved && flow == wire.FlowDelete:
		return display.Screen{Name: "deleted", Title: "Your data is deleted", Body: "We no longer hold your palm, card or phone number.", Tone: display.Success}
	case o == wire.Approved:
		return display.Screen{Name: "approved", Title: "Welcome", Body: "Please go ahead.", Tone: display.Success}
	case o == wire.NotRecognized && flow == wire.FlowDelete:
		return display.Screen{Name: "not_recognized", Title: "No data found", Body: "We hold no data for this palm.", Tone: display.Warning}
	case o == wire.NotRecognized:
		return display.Screen{Name: "not_recognized", Title: "Palm not recognised", Body: "New here? Insert your card to sign up.", Tone: display.Warning}
	case o == wire.SpoofRejected:
		return display.Screen{Name: "spoof_rejected", Title: "We couldn't verify your palm", Body: "Please ask a member of staff.", Tone: display.Failure}
	case o == wire.Declined:
		return display.Screen{Name: "declined", Title: "Not accepted", Body: "Please ask a member of staff.", Tone: display.Failure}
	default:
		return display.Screen{Name: "retry", Title: "Let's try again", Body: "Take your hand away and hover it again.", Tone: display.Warning}
	}
}
