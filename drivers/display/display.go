// Package display defines the kiosk's screen: what the firmware asks it to
// show, and the one renderer every display implementation draws with.
package display

// Tone colours a screen.
type Tone int

// Tones.
const (
	Info Tone = iota
	Success
	Warning
	Failure
)

// Icon is the picture between a screen's title and its body.
type Icon int

// Icons.
const (
	NoIcon Icon = iota
	// HandIcon is the hand-outline target a palm is held over; with
	// Screen.Hand set, the hand's measured position is drawn against it.
	HandIcon
	// TickIcon is success: a tick in a full-colour disc.
	TickIcon
	// CrossIcon is failure: a cross in a full-colour disc.
	CrossIcon
	// WaitIcon is three dots: the kiosk is working (sealing, asking the
	// cloud).
	WaitIcon
	// CardIcon is a payment card: insert or swipe it.
	CardIcon
	// KeypadIcon is a keypad: type on it.
	KeypadIcon
)

// Hand is where the quality gate measured the palm, in physical terms: never
// pixels of a frame.
type Hand struct {
	// X and Y are the palm's centre from the middle of the camera's view,
	// as a fraction of half its width and height: -1 is the left (top)
	// edge, +1 the right (bottom) one.
	X, Y float64
	// DistanceMM is the palm's distance from the scanner; NearMM and FarMM
	// bound the distances the gate accepts.
	DistanceMM, NearMM, FarMM float64
}

// InRange reports whether the distance is within the accepted band.
func (h Hand) InRange() bool { return h.DistanceMM >= h.NearMM && h.DistanceMM <= h.FarMM }

// Screen is one thing the kiosk shows a person. It never holds biometric or
// card data: card numbers arrive masked, phone numbers as typed so far are
// shown masked too, and a hand is only its measured position.
type Screen struct {
	Name  string // stable, unique id for tests and telemetry, e.g. "idle", "approved"
	Title string
	Body  string
	Tone  Tone
	Icon  Icon
	// Hand, with HandIcon, is the hand's live position; nil draws the
	// target alone.
	Hand *Hand
	// Progress in (0, 1] draws a bar along the bottom: how far a session
	// has come. 0 draws none.
	Progress float64
	// Footer is a small line at the bottom (a countdown).
	Footer string
	// Amount and Merchant, on payment screens, are drawn large above the
	// icon ("€12.50", "Corner Café").
	Amount, Merchant string
}

// Display shows screens.
type Display interface {
	Show(Screen) error
	// Halt blanks the screen.
	Halt() error
}
