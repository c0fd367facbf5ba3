// Package firmware is the kiosk's brain: the session state machine and its
// flows (enrol, identify, delete-my-data), built only on the driver interfaces,
// the vision gates and the uplink's sealing and request API. It has no
// hardware or network code of its own.
//
// One session runs at a time:
//
//	idle ─▶ hover ─▶ capture (quality gate, guidance) ─▶ liveness ─▶ palm region
//	     ─▶ seal ─▶ request ─▶ decision ─▶ display (and gate) ─▶ idle
//
// Enrolment starts with a card, then a phone number on the keypad, then the
// palm. Delete-my-data starts with the delete key, then the palm, then a
// confirmation on the display. Every step has a deadline; a person who walks
// away leaves the kiosk idle again, not stuck.
//
// Raw frames live only in the Kiosk's own frame buffers, which are zeroed as
// soon as the capture is sealed; card and phone numbers are sealed and zeroed
// the same way. Events (see Event) carry no biometric, card or phone data.
package firmware
