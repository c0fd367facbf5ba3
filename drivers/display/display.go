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

// Screen is one thing the kiosk shows a person. It never holds biometric or
// card data: card numbers arrive masked, phone numbers as typed so far are
// shown masked too.
type Screen struct {
	Name  string // stable id for tests and telemetry, e.g. "idle", "guide", "approved"
	Title string
	Body  string
	Tone  Tone
}

// Display shows screens.
type Display interface {
	Show(Screen) error
	// Halt blanks the screen.
	Halt() error
}
