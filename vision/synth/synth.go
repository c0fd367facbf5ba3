package synth

import (
	"errors"
	"fmt"
	"hash/fnv"
)

// Width and Height are the size of the simulated sensor, in pixels.
const Width, Height = 1280, 800

// Presentation is what is held over the scanner: a live hand or an attack.
type Presentation int

// The presentations the simulator renders.
const (
	Genuine          Presentation = iota // a live hand
	PrintedPhoto                         // a palm photo printed on paper
	ScreenReplay                         // a palm image shown on a phone or tablet screen
	RigidReplica                         // a silicone, gelatine or wax cast of a hand, mounted
	VeinPrint                            // a NIR palm image with veins printed in 850 nm-absorbing ink, hand-held
	VeinPrintMounted                     // the same print mounted on a stand
	GlossyPhoto                          // a palm photo on glossy photo paper (dye inks), hand-held
	NIRProjector                         // an 850 nm projector on matte film, flashing in step with a guessed strobe phase
	VeinReplica                          // a silicone, gelatine or wax cast with painted NIR-absorbing veins, moved by hand
)

var presentationNames = [...]string{"genuine", "printed_photo", "screen_replay", "rigid_replica",
	"vein_print", "vein_print_mounted", "glossy_photo", "nir_projector", "vein_replica"}

// Presentations lists every presentation, Genuine first.
func Presentations() []Presentation {
	ps := make([]Presentation, len(presentationNames))
	for i := range ps {
		ps[i] = Presentation(i)
	}
	return ps
}

// ErrUnknownPresentation reports a name ParsePresentation does not know.
var ErrUnknownPresentation = errors.New("synth: unknown presentation")

// ErrUnknownCondition reports a name ParseCondition does not know.
var ErrUnknownCondition = errors.New("synth: unknown condition")

func (p Presentation) String() string {
	if p < 0 || int(p) >= len(presentationNames) {
		return fmt.Sprintf("presentation(%d)", int(p))
	}
	return presentationNames[p]
}

// ParsePresentation is the inverse of Presentation.String.
func ParsePresentation(s string) (Presentation, error) {
	for i, n := range presentationNames {
		if n == s {
			return Presentation(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownPresentation, s)
}

// MarshalText implements encoding.TextMarshaler, so scenario files can name
// presentations.
func (p Presentation) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(presentationNames) {
		return nil, fmt.Errorf("%w: %d", ErrUnknownPresentation, int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Presentation) UnmarshalText(b []byte) error {
	v, err := ParsePresentation(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Condition is the capture situation: a good capture, a hard but acceptable
// one, or one pushed out of the range the quality gate accepts. Each changes
// what its name says and what that implies (Dark, for example, the albedo,
// the room light and the LEDs); the package documentation lists them.
type Condition int

// The capture conditions the simulator renders.
const (
	Good      Condition = iota // palm in frame, centred, in focus, normal distance
	TooFar                     // palm small in the frame
	TooClose                   // palm overflows the frame
	OffCentre                  // palm whole but far from the centre
	Moving                     // large motion between frames, motion blur, over-exposure
	PartlyOut                  // part of the palm is outside the frame
	Blurred                    // strong defocus
	Dark                       // underexposed
	Bright                     // saturated, strong ambient light
	// Hard but acceptable conditions: the gate must pass them.
	Sunlit     // low sun through a window, from one side
	DarkSkin   // dark skin (low NIR albedo), 155 to 236 mm away
	FairSkin   // very fair skin (high NIR albedo)
	DrySkin    // dry, wrinkled skin: deeper creases, flaky texture
	ChildClose // a child's small palm held close
	Tilted     // palm tilted 15 to 25 degrees
	Sleeve     // a sleeve or bracelet at the wrist
)

var conditionNames = [...]string{"good", "too_far", "too_close", "off_centre", "moving", "partly_out", "blurred", "dark", "bright",
	"sunlit", "dark_skin", "fair_skin", "dry_skin", "child_close", "tilted", "sleeve"}

// BonaFide reports whether a genuine capture in condition c should pass the
// quality gate: Good and the hard conditions from Sunlit on.
func (c Condition) BonaFide() bool { return c == Good || (c >= Sunlit && int(c) < len(conditionNames)) }

// Conditions lists every condition, Good first.
func Conditions() []Condition {
	cs := make([]Condition, len(conditionNames))
	for i := range cs {
		cs[i] = Condition(i)
	}
	return cs
}

func (c Condition) String() string {
	if c < 0 || int(c) >= len(conditionNames) {
		return fmt.Sprintf("condition(%d)", int(c))
	}
	return conditionNames[c]
}

// ParseCondition is the inverse of Condition.String.
func ParseCondition(s string) (Condition, error) {
	for i, n := range conditionNames {
		if n == s {
			return Condition(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownCondition, s)
}

// MarshalText implements encoding.TextMarshaler.
func (c Condition) MarshalText() ([]byte, error) {
	if c < 0 || int(c) >= len(conditionNames) {
		return nil, fmt.Errorf("%w: %d", ErrUnknownCondition, int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Condition) UnmarshalText(b []byte) error {
	v, err := ParseCondition(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Capture names one simulated capture: whose palm (Identity), which take of
// it (Seed: pose, exposure, noise), what is presented and in what condition.
type Capture struct {
	Identity     uint64
	Seed         uint64
	Presentation Presentation
	Condition    Condition
}

// IdentityOf is a stable hash of a person's name, for use as Capture.Identity.
func IdentityOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}
