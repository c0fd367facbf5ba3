package sim

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math/rand/v2"

	"github.com/palmd/palmd/drivers/camera"
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/gate"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/drivers/presence"
	"github.com/palmd/palmd/vision/synth"
)

var (
	_ camera.Camera     = (*Camera)(nil)
	_ light.Light       = (*Light)(nil)
	_ presence.Sensor   = (*Presence)(nil)
	_ display.Display   = (*Display)(nil)
	_ cardreader.Reader = (*Cards)(nil)
	_ keypad.Keypad     = (*Keypad)(nil)
	_ gate.Gate         = (*Gate)(nil)
	_ gate.Door         = (*Gate)(nil)
)

// Camera is the simulated NIR camera. It renders the world's scene as lit or
// unlit according to the simulated LEDs at the moment of capture.
type Camera struct {
	w     *World
	noise *rand.Rand // background sensor noise when nothing hovers
}

// Camera returns the world's camera.
func (w *World) Camera() *Camera { return &Camera{w: w, noise: rand.New(rand.NewPCG(1, 2))} }

// Bounds implements camera.Camera: the real sensor's 1280x800.
func (c *Camera) Bounds() image.Rectangle { return image.Rect(0, 0, synth.Width, synth.Height) }

// Capture implements camera.Camera. Lit and unlit frames of one strobe pair
// show the same instant, as a sensor strobing at twice the pair rate would.
func (c *Camera) Capture(ctx context.Context, dst *image.Gray) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dst.Rect != c.Bounds() {
		return fmt.Errorf("sim camera: frame is %v, want %v", dst.Rect.Size(), c.Bounds().Size())
	}
	if err := c.w.waitFrame(ctx); err != nil {
		return err
	}
	c.w.mu.Lock()
	unplugged, banks, h := c.w.unplug, c.w.banks, c.w.hand
	var frame int
	if h != nil {
		frame = h.frame
		if h.still > 0 {
			h.still--
		} else {
			h.frame++
		}
	}
	c.w.mu.Unlock()
	if unplugged {
		return fmt.Errorf("sim camera: %w", camera.ErrUnavailable)
	}
	if h == nil {
		c.background(dst, banks != 0)
		return nil
	}
	draw := func() { h.scene.RenderFrame(dst, frame, synth.Banks(banks)) }
	if c.w.cache != nil {
		c.w.cache.render(h.capture, dst.Pix, frame, banks, draw)
		return nil
	}
	draw()
	return nil
}

// waitFrame waits for the sensor's next frame slot when the world is paced.
func (w *World) waitFrame(ctx context.Context) error {
	if w.frames == nil {
		return nil
	}
	w.mu.Lock()
	now := w.frames.Now()
	w.nextFrame = w.nextFrame.Add(FramePeriod)
	if w.nextFrame.Before(now) {
		w.nextFrame = now
	}
	wait := w.nextFrame.Sub(now)
	w.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.frames.After(wait):
		return nil
	}
}

// BlackLevel is what the simulated sensor's optical-black rows report: the
// black level of the capture in front of it (it drifts from one capture to
// the next), or the sensor's nominal one with nothing there.
func (c *Camera) BlackLevel() float64 {
	c.w.mu.Lock()
	h := c.w.hand
	c.w.mu.Unlock()
	if h == nil {
		return synth.BlackLevel
	}
	_, _, black := h.scene.Exposure()
	return black
}

// background fills dst with what the sensor sees with nothing above it: the
// dark ceiling, a little brighter when the LEDs are on, and read noise.
func (c *Camera) background(dst *image.Gray, lit bool) {
	base := uint8(10)
	if lit {
		base = 18
	}
	for i := range dst.Pix {
		if i&7 == 0 {
			dst.Pix[i] = base + uint8(c.noise.IntN(5))
		} else {
			dst.Pix[i] = base
		}
	}
}

// Halt implements camera.Camera; the simulated camera has nothing to stop.
func (c *Camera) Halt() error { return nil }

// Light is the simulated NIR LED bank.
type Light struct{ w *World }

// Light returns the world's LEDs.
func (w *World) Light() *Light { return &Light{w: w} }

// Set implements light.Light.
func (l *Light) Set(on bool) error {
	if on {
		return l.SetBanks(light.BankBoth)
	}
	return l.SetBanks(0)
}

// SetBanks implements light.Light: the simulated sensor sees the banks lit
// at the moment of its next frame.
func (l *Light) SetBanks(b light.Banks) error {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	l.w.banks = b
	return nil
}

// Halt implements light.Light: LEDs off.
func (l *Light) Halt() error { return l.Set(false) }

// Presence is the simulated time-of-flight sensor.
type Presence struct{ w *World }

// Presence returns the world's presence sensor.
func (w *World) Presence() *Presence { return &Presence{w: w} }

// Read implements presence.Sensor.
func (p *Presence) Read(ctx context.Context) (presence.Reading, error) {
	if err := ctx.Err(); err != nil {
		return presence.Reading{}, err
	}
	p.w.mu.Lock()
	defer p.w.mu.Unlock()
	present := p.w.hand != nil
	if len(p.w.moves) > 0 {
		present = p.w.moves[0]
		p.w.moves = p.w.moves[1:]
	}
	if !present {
		return presence.Reading{}, nil
	}
	r := presence.Reading{Present: true}
	if p.w.hand != nil {
		r.MM = p.w.hand.scene.DistanceMM()
	}
	return r, nil
}

// Halt implements presence.Sensor.
func (p *Presence) Halt() error { return nil }

// Display is the simulated screen; the world keeps every screen it showed.
type Display struct{ w *World }

// Display returns the world's display.
func (w *World) Display() *Display { return &Display{w: w} }

// moveScreens are the guidance screens that ask a person to move the hand;
// simulated people react to them.
var moveScreens = map[string]bool{"move_lower": true, "move_higher": true, "move_centre": true}

// againScreen asks for another capture of the same palm (an enrolment
// takes several); simulated people lift the hand and hover it again.
const againScreen = "palm_again"

// Show implements display.Display.
func (d *Display) Show(s display.Screen) error {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	d.w.screens = append(d.w.screens, s)
	switch {
	case moveScreens[s.Name]:
		d.w.guided()
	case s.Name == againScreen:
		d.w.again()
	}
	return nil
}

// Halt implements display.Display: a blank screen.
func (d *Display) Halt() error { return d.Show(display.Screen{Name: "blank"}) }

// Cards is the simulated card reader.
type Cards struct {
	w    *World
	port chan struct{} // the port it has open: closed when it was unplugged
}

// Cards returns the world's card reader, open.
func (w *World) Cards() *Cards {
	w.mu.Lock()
	defer w.mu.Unlock()
	return &Cards{w: w, port: w.cardPort}
}

// ErrCardsUnplugged is the simulated card reader's failure when it is
// pulled out: its port is gone.
var ErrCardsUnplugged = errors.New("sim card reader: the port is gone (unplugged)")

// Next implements cardreader.Reader. A card whose number does not validate
// is reported as cardreader.ErrBadPAN, as the real reader reports it. Once
// the reader is unplugged Next fails with ErrCardsUnplugged until Reopen
// succeeds.
func (c *Cards) Next(ctx context.Context) (cardreader.Event, error) {
	c.w.mu.Lock()
	port := c.port
	c.w.mu.Unlock()
	select {
	case <-port:
		return cardreader.Event{}, ErrCardsUnplugged
	default:
	}
	select {
	case ev := <-c.w.cards:
		if ev.Kind == cardreader.Inserted && !ev.Card.PAN.Valid() {
			return cardreader.Event{}, fmt.Errorf("sim card reader: %w", cardreader.ErrBadPAN)
		}
		return ev, nil
	case <-port:
		return cardreader.Event{}, ErrCardsUnplugged
	case <-ctx.Done():
		return cardreader.Event{}, ctx.Err()
	}
}

// Reopen opens the reader's port again: it fails while the reader is
// unplugged. The firmware calls it after Next failed.
func (c *Cards) Reopen(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if c.w.cardsUnplugged {
		return fmt.Errorf("sim card reader: opening: %w", fs.ErrNotExist)
	}
	c.port = c.w.cardPort
	return nil
}

// Halt implements cardreader.Reader.
func (c *Cards) Halt() error { return nil }

// Keypad is the simulated keypad.
type Keypad struct{ w *World }

// Keypad returns the world's keypad.
func (w *World) Keypad() *Keypad { return &Keypad{w: w} }

// Next implements keypad.Keypad.
func (k *Keypad) Next(ctx context.Context) (keypad.Key, error) {
	select {
	case key := <-k.w.keys:
		return key, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Halt implements keypad.Keypad.
func (k *Keypad) Halt() error { return nil }

// Gate is the simulated entry gate.
type Gate struct{ w *World }

// Gate returns the world's gate.
func (w *World) Gate() *Gate { return &Gate{w: w} }

// Open implements gate.Gate. The simulated relay pulse takes no time.
func (g *Gate) Open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.w.mu.Lock()
	defer g.w.mu.Unlock()
	g.w.opens++
	return nil
}

// Halt implements gate.Gate.
func (g *Gate) Halt() error { return nil }
