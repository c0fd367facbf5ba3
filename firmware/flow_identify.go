package firmware

import "github.com/palmd/palmd/uplink/wire"

// Identify: a hand arrives over the idle kiosk.
//
//	steps    capture (guidance screens) → seal → ask the cloud → result
//	screens  scanning, move_* / hold_still / hold_flat / shade / face_scanner /
//	         show_palm, checking, then approved, not_recognized,
//	         spoof_rejected or retry
//	request  identify, with the sealed palm
//	outcome  approved pulses the gate relay and, with a door contact,
//	         watches the door (flow_entry.go); the result stays up until
//	         the hand leaves, and at least 1.5 s
var identifyFlow = flow{name: wire.FlowIdentify, trigger: onHover, run: identify}

func identify(s *session, _ input) {
	palm, ok := s.capture()
	if !ok {
		return
	}
	dec := s.request(wire.Request{Palm: palm})
	s.decide(dec)
	if dec.Outcome == wire.Approved && s.ctx.Err() == nil {
		s.openGate() // and watch the door: flow_entry.go
	}
	s.awaitWithdraw()
}
