package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Flow names what a request asks the cloud to do.
type Flow string

// The flows a kiosk sends.
const (
	FlowEnrol    Flow = "enrol"
	FlowIdentify Flow = "identify"
	FlowDelete   Flow = "delete"
	// FlowPay authorises a payment a point of sale asked for, against the
	// card of the palm's enrolment; the request carries the Payment.
	FlowPay Flow = "pay"
	// FlowVoid reverses a payment whose answer the point of sale never
	// got (it went away, or cancelled while the cloud decided); it
	// carries Payment.Ref and no palm.
	FlowVoid Flow = "void"
	// FlowLoyalty identifies the palm for a point of sale; the decision's
	// Reference is the person's loyalty id.
	FlowLoyalty Flow = "loyalty"
	// FlowAge asks whether the palm's person is over Request.Over years;
	// the decision says only approved (over) or declined (not over).
	FlowAge Flow = "age"
)

// flows lists every flow, in the order documentation names them.
var flows = [...]Flow{FlowEnrol, FlowIdentify, FlowDelete, FlowPay, FlowVoid, FlowLoyalty, FlowAge}

// Flows returns every flow a kiosk may send. A cloud handles each of them
// explicitly (uplink/cloud's test holds it to this list).
func Flows() []Flow { return flows[:] }

// Valid reports whether f is one of the known flows.
func (f Flow) Valid() bool { return slices.Contains(flows[:], f) }

// flowNames is the list of valid flows for error messages.
func flowNames() string {
	var b strings.Builder
	for i, f := range flows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(f))
	}
	return b.String()
}

// Outcome is the cloud's answer to a request.
type Outcome string

// The outcomes a decision carries.
const (
	Approved      Outcome = "approved"
	Declined      Outcome = "declined"
	NotRecognized Outcome = "not_recognized"
	SpoofRejected Outcome = "spoof_rejected"
	Retry         Outcome = "retry"
)

// Valid reports whether o is one of the known outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Approved, Declined, NotRecognized, SpoofRejected, Retry:
		return true
	}
	return false
}

// Size limits of messages read from the network.
const (
	// MaxRequest bounds an encoded Request (three sealed parts, base64 in JSON).
	MaxRequest = 256 << 10
	// MaxSigned bounds an encoded Signed envelope (decision or command).
	MaxSigned = 64 << 10
	// MaxEvent bounds an encoded telemetry Event.
	MaxEvent = 4 << 10
	// maxID bounds identifiers (request ids, device ids, subjects, reasons).
	maxID = 128
)

// Errors returned by the decoders. Each carries no message content.
var (
	ErrTooLarge  = errors.New("wire: message too large")
	ErrMalformed = errors.New("wire: malformed message")
)

// Request is one kiosk request. Palm, Phone and Card are sealed (see
// uplink/seal); the clear values never appear in a Request.
type Request struct {
	ID     string    `json:"id"`
	Device string    `json:"device"`
	Flow   Flow      `json:"flow"`
	Time   time.Time `json:"time"`
	Palm   []byte    `json:"palm,omitempty"`
	Phone  []byte    `json:"phone,omitempty"`
	Card   []byte    `json:"card,omitempty"`
	// Payment is what a pay or void request is about (clear: it holds no
	// personal data).
	Payment *Payment `json:"payment,omitempty"`
	// Over is the age in years an age request asks about (1 to 125).
	Over int `json:"over,omitempty"`
}

// Payment is a payment a point of sale asked the kiosk to authorise.
type Payment struct {
	// Ref is the point of sale's message id: one payment per Ref and
	// device, however often it is sent.
	Ref string `json:"ref"`
	// Amount is in the currency's minor unit (cents), 1 to MaxAmount.
	Amount int64 `json:"amount,omitempty"`
	// Currency is an ISO 4217 code: three upper-case letters.
	Currency string `json:"currency,omitempty"`
	// Merchant is the name shown to the person, up to 64 characters.
	Merchant string `json:"merchant,omitempty"`
}

// MaxAmount bounds a payment's amount in minor units.
const MaxAmount = 1_000_000_00

// Validate checks the clear fields of r.
func (r Request) Validate() error {
	if !r.Flow.Valid() {
		return fmt.Errorf("%w: request flow is not one of %s", ErrMalformed, flowNames())
	}
	if !validID(r.ID) || !validID(r.Device) || r.Time.IsZero() {
		return fmt.Errorf("%w: request header", ErrMalformed)
	}
	if (r.Flow == FlowAge) != (r.Over != 0) || r.Over < 0 || r.Over > 125 {
		return fmt.Errorf("%w: over: an age request asks about 1 to 125 years, no other request has it", ErrMalformed)
	}
	switch r.Flow {
	case FlowVoid:
		if r.Payment == nil || !validID(r.Payment.Ref) || len(r.Palm)+len(r.Phone)+len(r.Card) != 0 {
			return fmt.Errorf("%w: a void carries payment.ref and nothing sealed", ErrMalformed)
		}
		return nil
	case FlowPay:
		if err := r.Payment.validate(); err != nil {
			return err
		}
	default:
		if r.Payment != nil {
			return fmt.Errorf("%w: only pay and void carry a payment", ErrMalformed)
		}
	}
	if len(r.Palm) == 0 {
		return fmt.Errorf("%w: request has no palm", ErrMalformed)
	}
	return nil
}

func (p *Payment) validate() error {
	switch {
	case p == nil:
		return fmt.Errorf("%w: a payment request has no payment", ErrMalformed)
	case !validID(p.Ref):
		return fmt.Errorf("%w: payment.ref", ErrMalformed)
	case p.Amount < 1 || p.Amount > MaxAmount:
		return fmt.Errorf("%w: payment.amount: want 1 to %d minor units", ErrMalformed, MaxAmount)
	case !ValidCurrency(p.Currency):
		return fmt.Errorf("%w: payment.currency: want three upper-case letters (ISO 4217)", ErrMalformed)
	case !ValidMerchant(p.Merchant):
		return fmt.Errorf("%w: payment.merchant: want 1 to 64 printable characters", ErrMalformed)
	}
	return nil
}

// ValidCurrency reports whether c looks like an ISO 4217 code.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// ValidMerchant accepts 1 to 64 printable ASCII characters (spaces too).
func ValidMerchant(m string) bool {
	if len(m) == 0 || len(m) > 64 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < ' ' || m[i] > '~' {
			return false
		}
	}
	return true
}

// Decision is the cloud's answer to a Request. It travels inside a signed
// Statement.
type Decision struct {
	// Request is the ID of the request this answers.
	Request string  `json:"request"`
	Outcome Outcome `json:"outcome"`
	// Subject is an opaque pseudonym of the enrolled person, never PII.
	Subject string `json:"subject,omitempty"`
	// Reason is a short machine-readable reason, e.g. "duplicate_palm".
	Reason string `json:"reason,omitempty"`
	// Reference names an approved payment (pay), or is the loyalty id
	// (loyalty), for the point of sale.
	Reference string `json:"reference,omitempty"`
}

// EncodeRequest encodes r for the network.
func EncodeRequest(r Request) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// DecodeRequest strictly decodes and validates a Request.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if err := decodeStrict(b, MaxRequest, &r); err != nil {
		return Request{}, err
	}
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// validID accepts 1..maxID printable ASCII characters without spaces or
// NATS subject separators/wildcards.
func validID(s string) bool {
	return printable(s, maxID) && !strings.ContainsAny(s, ".*>")
}

// printable accepts 1..max printable ASCII characters without spaces.
func printable(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// decodeStrict decodes one JSON value from b into v: at most limit bytes,
// no unknown fields, nothing after the value.
func decodeStrict(b []byte, limit int, v any) error {
	if len(b) > limit {
		return ErrTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// The decoder's message may quote input bytes; keep only its kind.
		return fmt.Errorf("%w: %T", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	return nil
}
