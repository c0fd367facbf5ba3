package firmware

import (
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/uplink/wire"
)

// Delete my data: the delete key is pressed at the idle kiosk.
//
//	steps    hover prompt → capture → seal → confirmation on the keypad →
//	         ask the cloud → result
//	screens  delete_hover, scanning and guidance, checking,
//	         confirm_delete, then kept (cancelled) or deleted / no_data /
//	         retry
//	request  delete, with the sealed palm; only after Enter on the
//	         confirmation screen (a key pressed earlier does not count)
//	outcome  shown; nothing else
var deleteFlow = flow{name: wire.FlowDelete, trigger: onDeleteKey, run: deleteMyData}

func deleteMyData(s *session, _ input) {
	palm, ok := s.askPalm()
	if !ok {
		return
	}
	if !confirm(s) {
		clear(palm)
		s.showResult(s.k.text.kept())
		return
	}
	s.decide(s.request(wire.Request{Palm: palm}))
	s.awaitWithdraw()
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
