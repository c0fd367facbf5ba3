package firmware

import (
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// Enrol: a card is read at the idle kiosk.
//
//	steps    phone number on the keypad → hover prompt → capture → seal
//	         palm and phone (to the cloud), card (to the payment side) →
//	         ask the cloud → result
//	screens  enter_phone (phone_too_short after Enter with too few
//	         digits), hover, scanning and guidance, checking, enrolled /
//	         declined / retry
//	request  enrol, with the sealed palm, phone and card
//	outcome  shown; nothing else. Cancelling or walking away at any step
//	         sends nothing and wipes the card and phone numbers.
var enrolFlow = flow{name: wire.FlowEnrol, trigger: onCard, run: enrol}

func enrol(s *session, in input) {
	card := in.(cardInput).ev.Card
	defer card.PAN.Zero()
	ph := newPhone()
	defer ph.zero()
	if !typePhone(s, card.PAN, ph) {
		return
	}
	palm, ok := s.askPalm()
	if !ok {
		return
	}
	req := wire.Request{Palm: palm}
	var err error
	if req.Phone, err = s.k.o.Palm.Seal(s.sealContext(seal.PartPhone), ph.digits); err == nil {
		req.Card, err = s.k.o.Card.Seal(s.sealContext(seal.PartCard), card.PAN.Digits())
	}
	ph.zero()
	card.PAN.Zero()
	if err != nil {
		s.k.o.Log.Error("sealing", "session", s.id, "err", err)
		s.decide(wire.Decision{Request: s.id, Outcome: wire.Retry, Reason: "internal"})
		return
	}
	s.decide(s.request(req))
	s.awaitWithdraw()
}

// typePhone collects the phone number on the keypad. It returns false if the
// person cancelled or walked away.
func typePhone(s *session, pan cardreader.PAN, ph *phone) bool {
	stop := s.listen(wantKeys)
	defer stop()
	short := false // Enter was pressed with too few digits
	for {
		s.show(s.k.text.phone(pan, ph, short))
		short = false
		in, ok := s.recv(s.k.o.Timeouts.Input)
		if !ok {
			return false
		}
		switch key := in.(keyInput).key; {
		case key == keypad.Cancel:
			return false
		case key.IsDigit():
			ph.add(byte(key))
		case key == keypad.Backspace:
			ph.back()
		case key == keypad.Enter:
			if ph.valid() == nil {
				return true
			}
			short = true
		}
	}
}
