// Package cardreader defines the payment/ID card reader and the card number
// type that never prints itself.
package cardreader

import (
	"context"
	"strconv"
)

// Kind tells what happened at the reader.
type Kind int

// Event kinds.
const (
	Inserted Kind = iota + 1 // a card was read; Event.Card holds it
	Removed                  // the card left the reader
)

// String names the kind: "inserted" or "removed".
func (k Kind) String() string {
	switch k {
	case Inserted:
		return "inserted"
	case Removed:
		return "removed"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one reader event.
type Event struct {
	Kind Kind
	Card Card // set for Inserted
}

// Card is what the kiosk keeps of a card: its number and expiry. It holds the
// number in a PAN, which redacts itself wherever it is printed.
type Card struct {
	PAN    PAN
	Expiry string // YYMM, as on track 2
}

// Reader reports card events.
type Reader interface {
	// Next blocks until the next event or until ctx is done. A card that
	// cannot be read yields an error; the reader stays usable.
	Next(ctx context.Context) (Event, error)
	Halt() error
}
