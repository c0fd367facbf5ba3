package cardreader

import (
	"errors"
	"fmt"
)

// ErrBadPAN reports a card number that is not 12–19 digits or fails the Luhn
// check. It never carries the number itself.
var ErrBadPAN = fmt.Errorf("%w: invalid card number", ErrUnreadable)

// ErrUnreadable reports a swipe or line that could not be read while the
// reader itself still works (noise, a damaged stripe, a wrong baud rate).
// Every such error of a Reader wraps it; any other error means the reader
// failed or went away.
var ErrUnreadable = errors.New("cardreader: unreadable card")

// PAN is a primary account number. Its String, GoString, Format and
// MarshalText show at most the last four digits, so a PAN that reaches a log,
// an error or a panic message does not leak. Digits returns the clear number
// for sealing; Zero wipes it.
type PAN struct{ digits []byte }

// ParsePAN validates s (digits only, 12–19 of them, Luhn) and returns it as a
// PAN holding its own copy.
func ParsePAN(s []byte) (PAN, error) {
	if len(s) < 12 || len(s) > 19 {
		return PAN{}, ErrBadPAN
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return PAN{}, ErrBadPAN
		}
	}
	if !luhn(s) {
		return PAN{}, ErrBadPAN
	}
	return PAN{digits: append([]byte(nil), s...)}, nil
}

// luhn reports whether the digit string passes the Luhn (mod 10) check.
func luhn(s []byte) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// Valid reports whether p holds a number.
func (p PAN) Valid() bool { return len(p.digits) > 0 }

// Digits returns the clear number. The slice is p's own: do not keep it, and
// do not print it.
func (p PAN) Digits() []byte { return p.digits }

// Last4 returns the last four digits, the most a person may be shown.
func (p PAN) Last4() string {
	if len(p.digits) < 4 {
		return ""
	}
	return string(p.digits[len(p.digits)-4:])
}

// Masked returns the number as shown on a display or receipt: "•••• 1234".
func (p PAN) Masked() string {
	if !p.Valid() {
		return "(no card)"
	}
	return "•••• " + p.Last4()
}

// Zero overwrites the digits.
func (p PAN) Zero() { clear(p.digits) }

// String implements fmt.Stringer with the masked form.
func (p PAN) String() string { return p.Masked() }

// GoString implements fmt.GoStringer so %#v redacts too.
func (p PAN) GoString() string { return "cardreader.PAN(" + p.Masked() + ")" }

// Format implements fmt.Formatter: every verb prints the masked form.
func (p PAN) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, p.GoString())
		return
	}
	fmt.Fprint(f, p.Masked())
}

// MarshalText implements encoding.TextMarshaler (and so JSON and slog) with
// the masked form.
func (p PAN) MarshalText() ([]byte, error) { return []byte(p.Masked()), nil }
