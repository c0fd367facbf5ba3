package firmware

import (
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// Delete my data: the delete key is pressed at the idle kiosk.
//
//	steps    second factor (the card enrolled, inserted, or the phone
//	         number given, typed) → hover prompt → capture → seal →
//	         confirmation on the keypad → ask the cloud → result
//	screens  delete_factor, delete_hover, scanning and guidance, checking,
//	         confirm_delete, then kept (cancelled) or deleted / no_data /
//	         retry
//	request  delete, with the sealed palm and the sealed factor (the card to
//	         the payment side's key, the phone to the cloud's); only after
//	         Enter on the confirmation screen (a key pressed earlier does
//	         not count). The cloud deletes only when palm and factor belong
//	         to the same enrolment, and its answer does not say which failed.
//	outcome  shown; nothing else. Cancelling or walking away at any step
//	         sends nothing and wipes the factor.
var deleteFlow = flow{name: wire.FlowDelete, trigger: onDeleteKey, run: deleteMyData}

func deleteMyData(s *session, _ input) {
	f, ok := askFactor(s)
	if !ok {
		return
	}
	defer f.zero()
	palm, ok := s.askPalm()
	if !ok {
		return
	}
	if !confirm(s) {
		clear(palm)
		s.showResult(s.k.text.kept())
		return
	}
	req := wire.Request{Palm: palm}
	var err error
	if f.card.Valid() {
		req.Card, err = s.k.o.Card.Seal(s.sealContext(seal.PartCard), f.card.Digits())
	} else {
		req.Phone, err = s.k.o.Palm.Seal(s.sealContext(seal.PartPhone), f.phone.digits)
	}
	f.zero()
	if err != nil {
		s.k.o.Log.Error("sealing", "session", s.id, "err", err)
		s.decide(wire.Decision{Request: s.id, Outcome: wire.Retry, Reason: "internal"})
		return
	}
	s.decide(s.request(req))
	s.awaitWithdraw()
}

// factor is a second factor: a card's number or a typed phone number.
type factor struct {
	card  cardreader.PAN
	phone *phone
}

func (f factor) zero() {
	f.card.Zero()
	if f.phone != nil {
		f.phone.zero()
	}
}

// askFactor asks for the card the person enrolled (inserted) or the phone
// number they gave (typed, then Enter). ok is false if they cancelled or
// walked away; nothing is then kept.
func askFactor(s *session) (f factor, ok bool) {
	stop := s.listen(wantKeys | wantCards)
	defer stop()
	f.phone = newPhone()
	for {
		s.show(s.k.text.deleteFactor(f.phone))
		in, ok := s.recv(s.k.o.Timeouts.Input)
		if !ok {
			f.zero()
			return factor{}, false
		}
		switch in := in.(type) {
		case cardInput:
			if in.ev.Kind != cardreader.Inserted {
				continue
			}
			f.phone.zero()
			f.card = in.ev.Card.PAN
			return f, true
		case keyInput:
			switch key := in.key; {
			case key == keypad.Cancel:
				f.zero()
				s.showResult(s.k.text.kept())
				return factor{}, false
			case key.IsDigit():
				f.phone.add(byte(key))
			case key == keypad.Backspace:
				f.phone.back()
			case key == keypad.Enter:
				if f.phone.valid() == nil {
					return f, true
				}
			}
		}
	}
}

// confirm shows the confirmation and waits for Enter (true) or Cancel.
func confirm(s *session) bool {
	stop := s.listen(wantKeys)
	defer stop()
	s.show(s.k.text.confirmDelete())
	for {
		in, ok := s.recv(s.k.o.Timeouts.Input)
		if !ok {
			return false
		}
		switch in.(keyInput).key {
		case keypad.Enter:
			return true
		case keypad.Cancel:
			return false
		}
	}
}
