package firmware

import "time"

// Event is one thing that happened at the kiosk, as printed on palmd's
// standard output (one JSON object a line) and sent as telemetry. Its fields
// are fixed so that a reviewer can see it can carry no biometric, card or
// phone data: Subject is the cloud's opaque pseudonym, never a name.
type Event struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Session string    `json:"session,omitempty"`
	Flow    string    `json:"flow,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	Screen  string    `json:"screen,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Subject string    `json:"subject,omitempty"`
	// Score is the liveness score of a "liveness" event.
	Score float64 `json:"score,omitempty"`
}

// Event names.
const (
	EvReady     = "ready"      // the kiosk is up and idle
	EvScreen    = "screen"     // the display changed (Screen names it)
	EvHover     = "hover"      // a hand was noticed; a session begins (Flow)
	EvGuidance  = "guidance"   // a frame failed quality; Reason says why
	EvLiveness  = "liveness"   // the burst's liveness verdict (Score, Reason)
	EvSealed    = "sealed"     // the capture is sealed; raw frames are zeroed
	EvDecision  = "decision"   // the outcome of a session (Flow, Outcome)
	EvHealth    = "health"     // a part went down or came back (Reason)
	EvCardError = "card_error" // the reader could not read a card (Reason)
)
