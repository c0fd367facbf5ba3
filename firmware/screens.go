package firmware

import (
	"math"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/quality"
)

// The kiosk's screens. Each has one name, which tests, scenarios and
// telemetry use, and its text comes from the message catalogue
// (messages.go) in the configured language: "<name>.title" and
// "<name>.body".

const (
	// resultHold is the least time a result stays up, however quickly the
	// hand leaves: long enough to read "approved" while walking on.
	resultHold = 1500 * time.Millisecond
	// noticeHold is how long an idle kiosk shows a notice (a card it
	// could not read) before it is idle again.
	noticeHold = 4 * time.Second
)

// Progress of a palm session, shown as a bar: the hand is seen and
// measured, then the capture is checked and the cloud asked.
const (
	progressScanning = 1.0 / 3
	progressChecking = 2.0 / 3
)

func (t *texts) screen(name string, tone display.Tone, icon display.Icon) display.Screen {
	return display.Screen{Name: name, Title: t.get(name + ".title"), Body: t.get(name + ".body"), Tone: tone, Icon: icon}
}

// modeScreen is what an idle kiosk shows in a mode.
func (t *texts) modeScreen(m Mode) display.Screen {
	switch m {
	case ModeNotProvisioned:
		return t.screen("not_provisioned", display.Warning, display.NoIcon)
	case ModeUpdating:
		return t.screen("updating", display.Warning, display.WaitIcon)
	case ModeMaintenance:
		return t.screen("maintenance", display.Warning, display.NoIcon)
	case ModeOutOfService:
		return t.screen("out_of_service", display.Failure, display.CrossIcon)
	}
	return t.screen("idle", display.Info, display.HandIcon)
}

func (t *texts) reinsertCard() display.Screen {
	return t.screen("reinsert_card", display.Warning, display.CardIcon)
}

func (t *texts) cardUnreadable() display.Screen {
	return t.screen("card_unreadable", display.Warning, display.CardIcon)
}

// askPalm is the prompt for a palm in a flow that began elsewhere: enrol
// (after the phone number) or delete-my-data (its own first screen).
func (t *texts) askPalm(flow wire.Flow) display.Screen {
	if flow == wire.FlowDelete {
		return t.screen("delete_hover", display.Warning, display.HandIcon)
	}
	return t.screen("hover", display.Info, display.HandIcon)
}

// choosePalms is the enrolment's hover prompt: one palm, or (both) the
// left palm first and the right next.
func (t *texts) choosePalms(both bool) display.Screen {
	if both {
		return t.screen("hover_left", display.Info, display.HandIcon)
	}
	return t.askPalm(wire.FlowEnrol)
}

// rightPalm asks for the right palm once the left one is captured.
func (t *texts) rightPalm() display.Screen {
	return t.screen("hover_right", display.Info, display.HandIcon)
}

// palmAgain asks for capture n of total of the same palm: the hand is
// lifted and hovered again, so each capture is a new presentation.
func (t *texts) palmAgain(n, total int) display.Screen {
	s := t.screen("palm_again", display.Info, display.HandIcon)
	s.Title = t.get("palm_again.title", n, total)
	return s
}

func (t *texts) confirmDelete() display.Screen {
	return t.screen("confirm_delete", display.Warning, display.KeypadIcon)
}

func (t *texts) kept() display.Screen { return t.screen("kept", display.Info, display.NoIcon) }

// phone is the phone-number entry with its format hint; short is set when
// Enter was pressed with too few digits.
func (t *texts) phone(pan cardreader.PAN, ph *phone, short bool) display.Screen {
	s := display.Screen{Name: "enter_phone", Title: t.get("enter_phone.title", pan.Masked()),
		Body: t.get("enter_phone.body", ph.masked()), Icon: display.KeypadIcon}
	if short {
		s = display.Screen{Name: "phone_too_short", Title: t.get("phone_too_short.title"),
			Body: t.get("phone_too_short.body", len(ph.digits), ph.masked()), Tone: display.Warning, Icon: display.KeypadIcon}
	}
	return s
}

// guidanceName is the screen that tells a person what to change for r.
func guidanceName(r quality.Reason) string {
	switch r {
	case quality.OK:
		return "scanning"
	case quality.TooFar:
		return "move_lower"
	case quality.TooClose:
		return "move_higher"
	case quality.OffCentre:
		return "move_centre"
	case quality.Blurred, quality.Moving:
		return "hold_still"
	case quality.TooBright:
		return "shade"
	case quality.Glare:
		return "hold_flat"
	case quality.TooDark:
		return "face_scanner"
	default:
		return "show_palm"
	}
}

// guidance is the screen for the verdict v: what to change, the hand's
// measured position and distance against the target (none when no palm
// was found), and how long is left. scanning (quality.OK) is the screen a
// hand gets as soon as it is seen.
func (t *texts) guidance(v quality.Verdict, left time.Duration) display.Screen {
	name := guidanceName(v.Reason)
	tone := display.Warning
	if v.Reason == quality.OK {
		tone = display.Info
	}
	s := t.screen(name, tone, display.HandIcon)
	s.Progress = progressScanning
	s.Footer = t.get("time_left", int(math.Ceil(left.Seconds())))
	if v.Reason != quality.NoPalm && v.Scores.DistanceMM > 0 {
		s.Hand = &display.Hand{X: v.Scores.OffsetX, Y: v.Scores.OffsetY, DistanceMM: v.Scores.DistanceMM,
			NearMM: quality.NearMM, FarMM: quality.FarMM}
	}
	return s
}

func (t *texts) checking() display.Screen {
	s := t.screen("checking", display.Info, display.WaitIcon)
	s.Progress = progressChecking
	return s
}

func (t *texts) result(flow wire.Flow, o wire.Outcome) display.Screen {
	if sc, ok := t.flowResult(flow, o); ok { // screens_flows.go
		return sc
	}
	switch {
	case o == wire.Approved && flow == wire.FlowEnrol:
		return t.screen("enrolled", display.Success, display.TickIcon)
	case o == wire.Approved && flow == wire.FlowDelete:
		return t.screen("deleted", display.Success, display.TickIcon)
	case o == wire.Approved:
		return t.screen("approved", display.Success, display.TickIcon)
	case o == wire.NotRecognized && flow == wire.FlowDelete:
		return t.screen("no_data", display.Warning, display.CrossIcon)
	case o == wire.NotRecognized:
		return t.screen("not_recognized", display.Warning, display.CrossIcon)
	case o == wire.SpoofRejected:
		return t.screen("spoof_rejected", display.Failure, display.CrossIcon)
	case o == wire.Declined:
		return t.screen("declined", display.Failure, display.CrossIcon)
	default:
		return t.screen("retry", display.Warning, display.CrossIcon)
	}
}
