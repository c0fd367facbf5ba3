package firmware

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/gate"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/drivers/presence"
)

// Small fakes for each part, each with a failure switch.

type stCamera struct {
	light *stLight
	err   error
}

func (c *stCamera) Bounds() image.Rectangle { return image.Rect(0, 0, 8, 4) }
func (c *stCamera) Capture(_ context.Context, dst *image.Gray) error {
	if c.err != nil {
		return c.err
	}
	v := byte(10)
	if c.light.on {
		v = 50
	}
	for i := range dst.Pix {
		dst.Pix[i] = v
	}
	return nil
}
func (c *stCamera) Halt() error { return nil }

type stLight struct {
	on       bool
	switches int
	err      error
}

func (l *stLight) Set(on bool) error {
	if l.err != nil && on {
		return l.err
	}
	l.on = on
	l.switches++
	return nil
}
func (l *stLight) SetBanks(b light.Banks) error { return l.Set(b != 0) }
func (l *stLight) Halt() error                  { l.on = false; return nil }

type stPresence struct {
	r   presence.Reading
	err error
}

func (p *stPresence) Read(context.Context) (presence.Reading, error) { return p.r, p.err }
func (p *stPresence) Halt() error                                    { return nil }

type stDisplay struct {
	mu      sync.Mutex
	screens []display.Screen
	err     error
}

func (d *stDisplay) Show(s display.Screen) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.screens = append(d.screens, s)
	return nil
}
func (d *stDisplay) Halt() error { return nil }

type stCards struct{ err error }

func (c *stCards) Next(ctx context.Context) (cardreader.Event, error) {
	if c.err != nil {
		return cardreader.Event{}, c.err
	}
	<-ctx.Done()
	return cardreader.Event{}, ctx.Err()
}
func (c *stCards) Halt() error { return nil }

type stKeypad struct {
	key keypad.Key
	err error
}

func (k *stKeypad) Next(ctx context.Context) (keypad.Key, error) {
	switch {
	case k.err != nil:
		return 0, k.err
	case k.key != 0:
		return k.key, nil
	}
	<-ctx.Done()
	return 0, ctx.Err()
}
func (k *stKeypad) Halt() error { return nil }

type stGate struct {
	opens   int
	door    bool
	doorErr error
}

func (g *stGate) Open(context.Context) error { g.opens++; return nil }
func (g *stGate) Halt() error                { return nil }
func (g *stGate) DoorOpen() (bool, error)    { return g.door, g.doorErr }

type stRig struct {
	cam   *stCamera
	light *stLight
	pres  *stPresence
	disp  *stDisplay
	cards *stCards
	keys  *stKeypad
	gate  *stGate
}

func newSTRig() *stRig {
	l := &stLight{}
	return &stRig{cam: &stCamera{light: l}, light: l, pres: &stPresence{}, disp: &stDisplay{},
		cards: &stCards{}, keys: &stKeypad{}, gate: &stGate{}}
}

func (r *stRig) devices() Devices {
	return Devices{Camera: r.cam, Light: r.light, Presence: r.pres, Display: r.disp, Cards: r.cards, Keypad: r.keys, Gate: r.gate}
}

func TestSelftestAllPass(t *testing.T) {
	r := newSTRig()
	r.pres.r = presence.Reading{Present: true, MM: 120}
	res := Selftest(context.Background(), r.devices(), SelftestOptions{PulseGate: true, Listen: 10 * time.Millisecond})
	if err := SelftestErr(res); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		PartCamera:   "8x4, unlit mean 10, lit mean 50",
		PartLight:    "blinked 3 times",
		PartPresence: "something at 120 mm",
		PartDisplay:  "test screen shown",
		PartCards:    "open, no card",
		PartKeypad:   "open, no key pressed",
		PartGate:     "relay pulsed, door closed",
	}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for _, p := range res {
		if p.Detail != want[p.Part] {
			t.Errorf("%s: %q, want %q", p.Part, p.Detail, want[p.Part])
		}
		if !strings.HasPrefix(p.String(), p.Part) || !strings.Contains(p.String(), "PASS") {
			t.Errorf("line %q", p.String())
		}
	}
	if r.light.on {
		t.Error("LEDs left on")
	}
	if r.light.switches != 2+1+6 {
		t.Errorf("LEDs switched %d times, want 9 (lit/unlit frames, off, 3 blinks)", r.light.switches)
	}
	if r.gate.opens != 1 {
		t.Errorf("gate pulsed %d times", r.gate.opens)
	}
	if n := len(r.disp.screens); n != 2 || r.disp.screens[0].Name != "selftest" || r.disp.screens[1].Name != "selftest_passed" {
		t.Errorf("screens %v", r.disp.screens)
	}
}

func TestSelftestFailures(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		part  string
		spoil func(r *stRig)
	}{
		{PartCamera, func(r *stRig) { r.cam.err = boom }},
		{PartLight, func(r *stRig) { r.light.err = boom }},
		{PartPresence, func(r *stRig) { r.pres.err = boom }},
		{PartDisplay, func(r *stRig) { r.disp.err = boom }},
		{PartCards, func(r *stRig) { r.cards.err = boom }},
		{PartKeypad, func(r *stRig) { r.keys.err = boom }},
		{PartGate, func(r *stRig) { r.gate.doorErr = boom }},
	}
	for _, tt := range tests {
		t.Run(tt.part, func(t *testing.T) {
			r := newSTRig()
			tt.spoil(r)
			res := Selftest(context.Background(), r.devices(), SelftestOptions{Listen: 10 * time.Millisecond})
			err := SelftestErr(res)
			if !errors.Is(err, ErrSelftest) || !strings.Contains(err.Error(), tt.part) {
				t.Fatalf("SelftestErr = %v, want %s named", err, tt.part)
			}
			for _, p := range res {
				if p.OK() == (p.Part == tt.part) && tt.part != PartLight {
					t.Errorf("%s: ok=%v", p.Part, p.OK())
				}
				if p.Part == tt.part && !strings.Contains(p.String(), "FAIL") {
					t.Errorf("line %q", p.String())
				}
			}
			if r.light.on {
				t.Error("LEDs left on")
			}
			if r.gate.opens != 0 {
				t.Error("gate pulsed without PulseGate")
			}
		})
	}
}

func TestSelftestMissingAndOptionalParts(t *testing.T) {
	r := newSTRig()
	r.keys.key = '5'
	r.gate.doorErr = gate.ErrNoDoor
	d := r.devices()
	d.Presence, d.Cards = nil, nil
	noBus := errors.New("linux.presence.bus: no such bus")
	res := Selftest(context.Background(), d, SelftestOptions{Listen: 10 * time.Millisecond,
		Unavailable: map[string]error{PartPresence: noBus}})
	for _, p := range res {
		switch p.Part {
		case PartPresence:
			if !errors.Is(p.Err, noBus) {
				t.Errorf("presence: %v, want why it could not be opened", p.Err)
			}
		case PartCards:
			if p.OK() {
				t.Error("a missing card reader passed")
			}
		case PartKeypad:
			if p.Detail != "open, a key was pressed" {
				t.Errorf("keypad: %q", p.Detail)
			}
		case PartGate:
			if !p.OK() || p.Detail != "relay not pulsed (use -pulse-gate), no door contact" {
				t.Errorf("gate: %v %q", p.Err, p.Detail)
			}
		}
	}
	if last := r.disp.screens[len(r.disp.screens)-1]; last.Name != "selftest_failed" || !strings.Contains(last.Body, PartPresence) {
		t.Errorf("final screen %+v", last)
	}
}
