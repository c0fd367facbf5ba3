package firmware

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/gate"
	"github.com/palmd/palmd/drivers/keypad"
)

// The parts Selftest checks, in order.
const (
	PartCamera   = "camera"
	PartLight    = "light"
	PartPresence = "presence"
	PartDisplay  = "display"
	PartCards    = "cards"
	PartKeypad   = "keypad"
	PartGate     = "gate"
)

// ErrSelftest reports that at least one part failed its self-test.
var ErrSelftest = errors.New("firmware: self-test failed")

// PartResult is one part's self-test outcome. Detail says what was measured
// (never frame, card or phone data); Err why the part failed.
type PartResult struct {
	Part   string
	Detail string
	Err    error
}

// OK reports whether the part passed.
func (r PartResult) OK() bool { return r.Err == nil }

// String is the result as one line: "camera    PASS  1280x800, unlit mean 12, lit mean 40".
func (r PartResult) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%-9s FAIL  %v", r.Part, r.Err)
	}
	return fmt.Sprintf("%-9s PASS  %s", r.Part, r.Detail)
}

// SelftestOptions say how far the self-test may go.
type SelftestOptions struct {
	// PulseGate pulses the gate relay. Only set it when nobody can be at
	// the gate: the door unlocks.
	PulseGate bool
	// PartTimeout bounds each part's test; 0 means 5 s.
	PartTimeout time.Duration
	// Listen is how long the card reader and keypad are watched for an
	// error; 0 means 200 ms.
	Listen time.Duration
	// Unavailable holds, by part name (Part*), why a part that is nil in
	// Devices could not be opened; such a part fails with that error.
	Unavailable map[string]error
}

// Selftest exercises every part of d once: it captures an unlit and a lit
// frame, blinks the LEDs, reads the presence sensor, shows a test screen,
// checks that the card reader and keypad are open and reading, and reads
// the door (pulsing the gate first if o.PulseGate). It shows the outcome on
// the display and returns one result per part; SelftestErr turns them into
// an error. Selftest leaves the LEDs off.
func Selftest(ctx context.Context, d Devices, o SelftestOptions) []PartResult {
	if o.PartTimeout <= 0 {
		o.PartTimeout = 5 * time.Second
	}
	if o.Listen <= 0 {
		o.Listen = 200 * time.Millisecond
	}
	tests := []struct {
		part string
		run  func(context.Context) (string, error)
	}{
		{PartDisplay, func(context.Context) (string, error) { return testDisplay(d.Display) }},
		{PartCamera, func(ctx context.Context) (string, error) { return testCamera(ctx, d) }},
		{PartLight, func(context.Context) (string, error) { return testLight(d) }},
		{PartPresence, func(ctx context.Context) (string, error) { return testPresence(ctx, d) }},
		{PartCards, func(ctx context.Context) (string, error) { return testCards(ctx, d.Cards, o.Listen) }},
		{PartKeypad, func(ctx context.Context) (string, error) { return testKeypad(ctx, d.Keypad, o.Listen) }},
		{PartGate, func(ctx context.Context) (string, error) { return testGate(ctx, d.Gate, o.PulseGate) }},
	}
	var results []PartResult
	for _, t := range tests {
		err := o.Unavailable[t.part]
		var detail string
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, o.PartTimeout)
			detail, err = t.run(pctx)
			cancel()
		}
		results = append(results, PartResult{Part: t.part, Detail: detail, Err: err})
	}
	if d.Display != nil {
		s := display.Screen{Name: "selftest_passed", Title: "Self-test passed", Body: "Every part works.", Tone: display.Success}
		if failed := failedParts(results); len(failed) > 0 {
			s = display.Screen{Name: "selftest_failed", Title: "Self-test failed",
				Body: "Failed: " + strings.Join(failed, ", "), Tone: display.Failure}
		}
		_ = d.Display.Show(s) // a broken display has already failed above
	}
	return results
}

// SelftestErr returns nil if every part passed, otherwise ErrSelftest
// naming the parts that failed.
func SelftestErr(results []PartResult) error {
	failed := failedParts(results)
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrSelftest, strings.Join(failed, ", "))
}

// failedParts names the parts that failed, in order.
func failedParts(results []PartResult) []string {
	var failed []string
	for _, r := range results {
		if !r.OK() {
			failed = append(failed, r.Part)
		}
	}
	return failed
}

var errMissing = errors.New("not configured")

func testDisplay(d display.Display) (string, error) {
	if d == nil {
		return "", errMissing
	}
	if err := d.Show(display.Screen{Name: "selftest", Title: "Self-test", Body: "Checking the kiosk's parts…"}); err != nil {
		return "", err
	}
	return "test screen shown", nil
}

// testCamera captures an unlit and a lit frame and reports their mean
// brightness (an aggregate, not frame data). The frames are zeroed.
func testCamera(ctx context.Context, d Devices) (string, error) {
	if d.Camera == nil {
		return "", errMissing
	}
	r := d.Camera.Bounds()
	frame := image.NewGray(r)
	defer clear(frame.Pix)
	means := [2]int{}
	for i, lit := range []bool{false, true} {
		if d.Light != nil {
			if err := d.Light.Set(lit); err != nil {
				return "", fmt.Errorf("LEDs for the %s frame: %w", litName(lit), err)
			}
		}
		err := d.Camera.Capture(ctx, frame)
		if err != nil {
			if d.Light != nil {
				_ = d.Light.Set(false)
			}
			return "", fmt.Errorf("%s frame: %w", litName(lit), err)
		}
		means[i] = mean(frame.Pix)
	}
	if d.Light != nil {
		if err := d.Light.Set(false); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%dx%d, unlit mean %d, lit mean %d", r.Dx(), r.Dy(), means[0], means[1]), nil
}

func litName(lit bool) string {
	if lit {
		return "lit"
	}
	return "unlit"
}

func mean(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	sum := 0
	for _, v := range p {
		sum += int(v)
	}
	return sum / len(p)
}

// testLight blinks the LEDs three times and leaves them off.
func testLight(d Devices) (string, error) {
	if d.Light == nil {
		return "", errMissing
	}
	const blinks = 3
	for range blinks {
		for _, on := range []bool{true, false} {
			if err := d.Light.Set(on); err != nil {
				_ = d.Light.Set(false)
				return "", err
			}
		}
	}
	return fmt.Sprintf("blinked %d times", blinks), nil
}

func testPresence(ctx context.Context, d Devices) (string, error) {
	if d.Presence == nil {
		return "", errMissing
	}
	r, err := d.Presence.Read(ctx)
	if err != nil {
		return "", err
	}
	if !r.Present {
		return "nothing in range", nil
	}
	return fmt.Sprintf("something at %d mm", r.MM), nil
}

// testCards watches the card reader for listen; the card read, if any, is
// zeroed.
func testCards(ctx context.Context, c cardreader.Reader, listen time.Duration) (string, error) {
	if c == nil {
		return "", errMissing
	}
	return listenOnce(ctx, listen, func(ctx context.Context) error {
		ev, err := c.Next(ctx)
		ev.Card.PAN.Zero()
		return err
	}, "open, a card was read", "open, no card")
}

// testKeypad watches the keypad for listen.
func testKeypad(ctx context.Context, k keypad.Keypad, listen time.Duration) (string, error) {
	if k == nil {
		return "", errMissing
	}
	return listenOnce(ctx, listen, func(ctx context.Context) error {
		_, err := k.Next(ctx)
		return err
	}, "open, a key was pressed", "open, no key pressed")
}

// listenOnce waits up to listen for one input from next: an open input
// waits quietly (detail quiet) or delivers one (detail got); a broken one
// errors.
func listenOnce(ctx context.Context, listen time.Duration, next func(context.Context) error, got, quiet string) (string, error) {
	lctx, cancel := context.WithTimeout(ctx, listen)
	defer cancel()
	err := next(lctx)
	switch {
	case err == nil:
		return got, nil
	case lctx.Err() != nil && ctx.Err() == nil:
		return quiet, nil
	}
	return "", err
}

// testGate reads the door and, if allowed, pulses the relay.
func testGate(ctx context.Context, g gate.Gate, pulse bool) (string, error) {
	if g == nil {
		return "", errMissing
	}
	var parts []string
	if pulse {
		if err := g.Open(ctx); err != nil {
			return "", fmt.Errorf("pulse: %w", err)
		}
		parts = append(parts, "relay pulsed")
	} else {
		parts = append(parts, "relay not pulsed (use -pulse-gate)")
	}
	if door, ok := g.(gate.Door); ok {
		switch open, err := door.DoorOpen(); {
		case errors.Is(err, gate.ErrNoDoor):
			parts = append(parts, "no door contact")
		case err != nil:
			return "", fmt.Errorf("door contact: %w", err)
		case open:
			parts = append(parts, "door open")
		default:
			parts = append(parts, "door closed")
		}
	}
	return strings.Join(parts, ", "), nil
}
