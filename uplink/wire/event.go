package wire

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one telemetry record. Its fields are closed on purpose: there is
// no free-form map, so no biometric, card or phone data can ride along.
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
	if e.Time.IsZero() || !validID(e.Device) || !validID(e.Type) || len(e.Reason) > maxID ||
		(e.Flow != "" && !e.Flow.Valid()) || (e.Outcome != "" && !e.Outcome.Valid()) || e.Millis < 0 {
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
