package firmware

import (
	"errors"
	"fmt"
)

// errBadPhone reports a phone number that is not 7–15 digits (E.164 allows 15).
var errBadPhone = errors.New("firmware: a phone number has 7 to 15 digits")

// phone is a phone number being typed. It prints itself masked, so it cannot
// leak through a log, an error or a panic message, and is zeroed after sealing.
type phone struct{ digits []byte }

func newPhone() *phone { return &phone{digits: make([]byte, 0, 15)} }

func (p *phone) add(d byte) {
	if len(p.digits) < cap(p.digits) {
		p.digits = append(p.digits, d)
	}
}

func (p *phone) back() {
	if n := len(p.digits); n > 0 {
		p.digits[n-1] = 0
		p.digits = p.digits[:n-1]
	}
}

func (p *phone) valid() error {
	if len(p.digits) < 7 {
		return errBadPhone
	}
	return nil
}

// zero wipes the digits.
func (p *phone) zero() {
	clear(p.digits[:cap(p.digits)])
	p.digits = p.digits[:0]
}

// masked shows how many digits were typed and only the last two, as the
// display does while a person types.
func (p *phone) masked() string {
	n := len(p.digits)
	if n == 0 {
		return "—"
	}
	b := make([]byte, 0, n+4)
	for i := 0; i < n-2; i++ {
		b = append(b, '*')
	}
	if n >= 2 {
		b = append(b, p.digits[n-2:]...)
	} else {
		b = append(b, '*')
	}
	return string(b)
}

// String implements fmt.Stringer with a fully redacted form.
func (p *phone) String() string { return fmt.Sprintf("[phone: %d digits]", len(p.digits)) }

// GoString implements fmt.GoStringer so %#v redacts too.
func (p *phone) GoString() string { return p.String() }

// Format implements fmt.Formatter: every verb prints the redacted form.
func (p *phone) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// MarshalText implements encoding.TextMarshaler (and so JSON and slog).
func (p *phone) MarshalText() ([]byte, error) { return []byte(p.String()), nil }
