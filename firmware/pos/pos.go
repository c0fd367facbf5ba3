package pos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/palmd/palmd/uplink/wire"
)

// Version is the protocol version this package speaks.
const Version = 1

// MaxLine bounds one line, newline included.
const MaxLine = 1024

// maxAmount bounds a payment's amount in minor units (wire.MaxAmount).
const maxAmount = 1_000_000_00

// Type is what a request asks for.
type Type string

// Request types.
const (
	Pay     Type = "pay"
	Cancel  Type = "cancel"
	Loyalty Type = "loyalty"
	Age     Type = "age"
)

// Request is one message from the POS.
type Request struct {
	V    int    `json:"v"`
	ID   string `json:"id"`
	Type Type   `json:"type"`
	// Pay: amount in minor units, ISO 4217 currency, merchant name shown.
	Amount   int64  `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	Merchant string `json:"merchant,omitempty"`
	// Cancel: the id of the request to cancel.
	Ref string `json:"ref,omitempty"`
	// Age: the age in years the person must be over.
	Over int `json:"over,omitempty"`
}

// Status is the outcome an answer reports.
type Status string

// Statuses.
const (
	Approved    Status = "approved"
	Declined    Status = "declined"
	Cancelled   Status = "cancelled"
	Busy        Status = "busy"
	Unavailable Status = "unavailable"
	InProgress  Status = "in_progress"
	OK          Status = "ok"
	UnknownRef  Status = "unknown_ref"
)

// Answer is one message to the POS.
type Answer struct {
	V      int    `json:"v"`
	ID     string `json:"id"`
	Type   string `json:"type"` // "result" or "error"
	Status Status `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Reference names an approved payment.
	Reference string `json:"reference,omitempty"`
	// Loyalty is the loyalty id of the person identified.
	Loyalty string `json:"loyalty,omitempty"`
	// Over answers an age check: true only if the person is over the N asked.
	Over *bool `json:"over,omitempty"`
}

// Result returns the answer to id with status and reason.
func Result(id string, st Status, reason string) Answer {
	return Answer{V: Version, ID: id, Type: "result", Status: st, Reason: reason}
}

// ErrMalformed reports a line that is not a valid request. Its message names
// the field and the valid values, never the line's bytes.
var ErrMalformed = errors.New("pos: malformed request")

// Parse strictly decodes and validates one request line (without its
// newline). The id is returned even when the rest is invalid, if it could
// be read, so that the error answer can name it.
func Parse(line []byte) (Request, error) {
	var r Request
	if len(line) >= MaxLine {
		return r, fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, MaxLine-1)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		// The decoder's message may quote the line; keep only its kind.
		return Request{ID: idOf(line)}, fmt.Errorf("%w: not one JSON object of known fields (%T)", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Request{ID: idOf(line)}, fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	if err := r.Validate(); err != nil {
		if !validID(r.ID) {
			r.ID = ""
		}
		return Request{ID: r.ID}, err
	}
	return r, nil
}

// idOf reads the id of a line that does not parse as a request, if it is
// at least a JSON object with a valid id.
func idOf(line []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &v) != nil || !validID(v.ID) {
		return ""
	}
	return v.ID
}

// Validate checks every field r's type needs, and that it has no other.
func (r Request) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if r.V != Version {
		return bad("v: %d: want %d", r.V, Version)
	}
	if !validID(r.ID) {
		return bad("id: want 1 to 64 printable characters without spaces")
	}
	pay := r.Amount != 0 || r.Currency != "" || r.Merchant != ""
	switch r.Type {
	case Pay:
		switch {
		case r.Amount < 1 || r.Amount > maxAmount:
			return bad("amount: want 1 to %d minor units", maxAmount)
		case !wire.ValidCurrency(r.Currency):
			return bad("currency: want an ISO 4217 code, three upper-case letters")
		case len(r.Merchant) == 0 || len(r.Merchant) > 64 || !printable(r.Merchant):
			return bad("merchant: want 1 to 64 printable characters")
		case r.Ref != "" || r.Over != 0:
			return bad("pay: ref and over do not belong to it")
		}
	case Cancel:
		if !validID(r.Ref) || pay || r.Over != 0 {
			return bad("cancel: want ref, the id of the request to cancel, and nothing else")
		}
	case Loyalty:
		if pay || r.Ref != "" || r.Over != 0 {
			return bad("loyalty: takes no fields")
		}
	case Age:
		if r.Over < 1 || r.Over > 125 || pay || r.Ref != "" {
			return bad("age: want over, 1 to 125 years, and nothing else")
		}
	default:
		return bad("type: want pay, cancel, loyalty or age")
	}
	return nil
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Encode returns a's line, newline included.
func Encode(a Answer) []byte {
	b, _ := json.Marshal(a) // an Answer always marshals
	return append(b, '\n')
}

// EncodeRequest returns r's line, newline included, after validating it.
func EncodeRequest(r Request) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("pos: %w", err)
	}
	return append(b, '\n'), nil
}
