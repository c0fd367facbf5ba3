package firmware

import (
	"context"
	"errors"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// backoffCamera is how often the kiosk probes a camera that is down.
const backoffCamera = time.Second

// identify serves a hand that hovered at the idle screen.
func (k *Kiosk) identify(ctx context.Context) error {
	s := newSession(wire.FlowIdentify)
	palm, done, err := k.hoveredPalm(ctx, s)
	if done {
		return err
	}
	d := k.request(ctx, wire.Request{ID: s.id, Device: k.o.DeviceID, Flow: s.flow, Time: s.at, Palm: palm})
	return k.finish(ctx, s, &d, nil)
}

// enrol signs up the person whose card was just read: phone number, then palm.
func (k *Kiosk) enrol(ctx context.Context, card cardreader.Card) error {
	defer card.PAN.Zero()
	s := newSession(wire.FlowEnrol)
	ph := newPhone()
	defer ph.zero()
	if !k.typePhone(ctx, card.PAN, ph) {
		return nil
	}
	palm, done, err := k.askPalm(ctx, s)
	if done {
		return err
	}
	req := wire.Request{ID: s.id, Device: k.o.DeviceID, Flow: s.flow, Time: s.at, Palm: palm}
	if req.Phone, err = k.o.Palm.Seal(k.sealContext(s, seal.PartPhone), ph.digits); err != nil {
		return k.finish(ctx, s, nil, err)
	}
	if req.Card, err = k.o.Card.Seal(k.sealContext(s, seal.PartCard), card.PAN.Digits()); err != nil {
		return k.finish(ctx, s, nil, err)
	}
	ph.zero()
	card.PAN.Zero()
	d := k.request(ctx, req)
	return k.finish(ctx, s, &d, nil)
}

// typePhone collects the phone number on the keypad. It returns false if the
// person cancelled or walked away.
func (k *Kiosk) typePhone(ctx context.Context, pan cardreader.PAN, ph *phone) bool {
	for {
		k.show(phoneScreen(pan, ph))
		key, ok := k.waitKey(ctx, k.o.Timeouts.Input)
		switch {
		case !ok || key == keypad.Cancel:
			return false
		case key.IsDigit():
			ph.add(byte(key))
		case key == keypad.Backspace:
			ph.back()
		case key == keypad.Enter:
			if ph.valid() == nil {
				return true
			}
		}
	}
}

// deleteMyData deletes the enrolment of the palm that hovers, after the person
// confirms on the display.
func (k *Kiosk) deleteMyData(ctx context.Context) error {
	s := newSession(wire.FlowDelete)
	palm, done, err := k.askPalm(ctx, s)
	if done {
		return err
	}
	k.drainKeys()
	k.show(screenConfirmDelete)
	for {
		key, ok := k.waitKey(ctx, k.o.Timeouts.Input)
		if !ok || key == keypad.Cancel {
			clear(palm)
			k.show(screenKept)
			return nil
		}
		if key == keypad.Enter {
			break
		}
	}
	d := k.request(ctx, wire.Request{ID: s.id, Device: k.o.DeviceID, Flow: s.flow, Time: s.at, Palm: palm})
	return k.finish(ctx, s, &d, nil)
}

// askPalm asks for the palm and waits for it, then does what hoveredPalm
// does. done is true when no hand came in time.
func (k *Kiosk) askPalm(ctx context.Context, s session) (palm []byte, done bool, err error) {
	k.show(screenHover)
	if ok, err := k.waitHover(ctx, k.o.Timeouts.Hover); !ok {
		return nil, true, err
	}
	return k.hoveredPalm(ctx, s)
}

// hoveredPalm starts the capture of the hand that hovers. It returns the
// sealed palm, or done when the session already ended with a local decision
// (retry, spoof_rejected), which it has shown.
func (k *Kiosk) hoveredPalm(ctx context.Context, s session) (palm []byte, done bool, err error) {
	k.emit(Event{Event: EvHover, Session: s.id, Flow: string(s.flow)})
	palm, dec, err := k.capturePalm(ctx, s)
	if err != nil || dec != nil {
		return nil, true, k.finish(ctx, s, dec, err)
	}
	return palm, false, nil
}

// capturePalm captures, gates and seals the palm. It returns the sealed
// capture, or a local decision (retry, spoof_rejected) that ends the session.
// The raw frames are zeroed before it returns, whatever happened.
func (k *Kiosk) capturePalm(ctx context.Context, s session) ([]byte, *wire.Decision, error) {
	defer k.zeroFrames()
	outcome, reason, err := k.capture(ctx, s)
	if errors.Is(err, errCamera) {
		k.cameraDown(ctx, err)
		return nil, &wire.Decision{Request: s.id, Outcome: wire.Retry, Reason: "camera"}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if outcome != "" {
		return nil, &wire.Decision{Request: s.id, Outcome: outcome, Reason: reason}, nil
	}
	k.plain = wire.AppendCapture(k.plain[:0], k.palm) // fits: allocate sized it
	defer clear(k.plain)
	sealed, err := k.o.Palm.Seal(k.sealContext(s, seal.PartPalm), k.plain)
	if err != nil {
		return nil, nil, err
	}
	k.emit(Event{Event: EvSealed, Session: s.id, Flow: string(s.flow)})
	return sealed, nil, nil
}

// finish ends a session: with a decision it shows and emits it; with only an
// error (sealing failed) it is a retry.
func (k *Kiosk) finish(ctx context.Context, s session, dec *wire.Decision, err error) error {
	if err != nil {
		dec = &wire.Decision{Request: s.id, Outcome: wire.Retry, Reason: "internal"}
	}
	if dec != nil {
		k.decide(ctx, s, *dec)
	}
	return err
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
