package wire

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one telemetry record. Its fields are closed on purpose: there is
// no free-form map, Type, Outcome and Reason are short tokens (a-z, 0-9,
// '_', ':', '-') that may not hold a run of 7 or more digits, so no
// biometric, card or phone data can ride along. Outcome is a decision's
// (Outcome.Valid) or another event's, such as the answer a point of sale
// was given (cancelled, busy).
type Event struct {
	Time   time.Time `json:"time"`
	Device string    `json:"device"`
	// Type is a short event name, e.g. "decision", "uplink_rejected", "health".
	Type    string  `json:"type"`
	Flow    Flow    `json:"flow,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"`
	// Reason is a short machine-readable reason, e.g. "bad_signature".
	Reason string `json:"reason,omitempty"`
	// Millis is a duration the event measured, if any.
	Millis int64 `json:"ms,omitempty"`
}

// Validate checks e's fields.
func (e Event) Validate() error {
	if e.Time.IsZero() || !validID(e.Device) || !token(e.Type) || (e.Reason != "" && !token(e.Reason)) ||
		(e.Flow != "" && !e.Flow.Valid()) || (e.Outcome != "" && !token(string(e.Outcome))) || e.Millis < 0 {
		return fmt.Errorf("%w: event", ErrMalformed)
	}
	return nil
}

// EncodeEvent encodes e for the network.
func EncodeEvent(e Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// DecodeEvent strictly decodes and validates an Event.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	if err := decodeStrict(b, MaxEvent, &e); err != nil {
		return Event{}, err
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// token accepts 1..maxID characters of a-z, 0-9, '_', ':' and '-' with no
// run of 7 or more digits (the shortest phone number).
func token(s string) bool {
	if len(s) == 0 || len(s) > maxID {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits++; digits >= 7 {
				return false
			}
			continue
		case c >= 'a' && c <= 'z', c == '_', c == ':', c == '-':
		default:
			return false
		}
		digits = 0
	}
	return true
}
