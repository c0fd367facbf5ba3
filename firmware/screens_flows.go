package firmware

import (
	"fmt"
	"time"

	"github.com/palmd/palmd/drivers/display"
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
