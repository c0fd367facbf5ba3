package firmware

import (
	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// Enrol: a card is read at the idle kiosk.
//
//	steps    phone number on the keypad → hover prompt (2: both palms,
//	         left then right; 1: one palm) → per palm, wire.MaxPerHand
//	         captures, the hand lifted and hovered again between them →
//	         seal the captures (one record, wire.AppendEnrolCapture) and
//	         phone (to the cloud), card (to the payment side) → ask the
//	         cloud → result
//	screens  enter_phone (phone_too_short after Enter with too few
//	         digits), hover or hover_left, scanning and guidance,
//	         palm_again ("once more, 2 of 3"), hover_right, checking,
//	         enrolled / declined / retry
//	request  enrol, with the sealed captures, phone and card
//	outcome  shown; nothing else. Cancelling or walking away at any step
//	         sends nothing and wipes the card and phone numbers and every
//	         capture taken.
var enrolFlow = flow{name: wire.FlowEnrol, trigger: onCard, run: enrol}

func enrol(s *session, in input) {
	card := in.(cardInput).ev.Card
	defer card.PAN.Zero()
	ph := newPhone()
	defer ph.zero()
	if !typePhone(s, card.PAN, ph) {
		return
	}
	hands, ok := choosePalms(s)
	if !ok {
		return
	}
	palm, ok := capturePalms(s, hands)
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

// choosePalms shows the hover prompt and waits for the hand; 2 on the
// keypad chooses both palms (left first), 1 one palm again. It returns the
// palms to capture; ok is false if the person cancelled or no hand came.
func choosePalms(s *session) (hands []wire.Hand, ok bool) {
	stop := s.listen(wantKeys | wantPresence)
	defer stop()
	hands = []wire.Hand{wire.Left}
	s.show(s.k.text.choosePalms(false))
	deadline := s.k.clock.Now().Add(s.k.o.Timeouts.Hover)
	for !s.k.present.Load() {
		in, ok := s.recv(s.k.clock.Until(deadline))
		if !ok {
			return nil, false
		}
		switch in := in.(type) {
		case keyInput:
			switch in.key {
			case keypad.Cancel:
				return nil, false
			case '1', '2':
				hands = []wire.Hand{wire.Left, wire.Right}[:in.key-'0']
				s.show(s.k.text.choosePalms(len(hands) == 2))
			}
		case presenceEdge:
			if in.present {
				return hands, true
			}
		}
	}
	return hands, true
}

// capturePalms captures wire.MaxPerHand good captures of each of hands,
// the hand lifted and hovered again between two, and seals them as one
// enrolment record. ok is false when the session ended (a local decision
// shown, no hand, or cancelled); every capture taken is zeroed.
func capturePalms(s *session, hands []wire.Hand) (sealed []byte, ok bool) {
	k := s.k
	defer k.zeroFrames()
	defer func() { clear(k.plain[:cap(k.plain)]) }()
	k.plain = k.plain[:0]
	for i, h := range hands {
		for n := range wire.MaxPerHand {
			var next display.Screen
			switch {
			case n > 0:
				next = k.text.palmAgain(n+1, wire.MaxPerHand)
			case i > 0:
				next = k.text.rightPalm()
			}
			if next.Name != "" && !rehover(s, next) {
				return nil, false
			}
			if !s.grab() {
				return nil, false
			}
			k.plain = wire.AppendEnrolCapture(k.plain, h, k.palm) // fits: allocate sized it
			k.zeroFrames()
		}
	}
	return s.sealPalm()
}

// rehover shows sc and waits for the hand to be taken away and hovered
// again: each capture of an enrolment is a presentation of its own. It
// listens before it shows, so a hand lifted and returned at once is seen
// to do both. Cancel abandons the enrolment.
func rehover(s *session, sc display.Screen) bool {
	stop := s.listen(wantKeys | wantPresence)
	defer stop()
	s.show(sc)
	away := !s.k.present.Load()
	deadline := s.k.clock.Now().Add(s.k.o.Timeouts.Hover)
	for {
		in, ok := s.recv(s.k.clock.Until(deadline))
		if !ok {
			return false
		}
		switch in := in.(type) {
		case keyInput:
			if in.key == keypad.Cancel {
				return false
			}
		case presenceEdge:
			if !in.present {
				away = true
			} else if away {
				return true
			}
		}
	}
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
