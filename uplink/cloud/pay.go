package cloud

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"

	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// Payment is one payment the reference cloud authorised: charged to the
// card token of Subject's enrolment unless Voided.
type Payment struct {
	Device, Ref string // the kiosk and the point of sale's message id
	Reference   string // what the point of sale is told
	Amount      int64
	Currency    string
	Subject     string
	Voided      bool
}

// ledger holds the payments authorised, one per device and point-of-sale
// message id, in memory.
type ledger struct {
	limit    int64
	mu       sync.Mutex
	payments map[string]*Payment // device/ref → payment
	order    []string
}

// pay authorises req's payment against the card of the palm's enrolment.
// The same device and message id again get the same payment: one charge.
func (c *Cloud) pay(req wire.Request, tmpl match.Template) wire.Decision {
	subject, ok := c.search(tmpl)
	switch {
	case !ok:
		return wire.Decision{Outcome: wire.NotRecognized}
	case c.limits.disabled(subject):
		return wire.Decision{Outcome: wire.Declined, Reason: "biometric_disabled"}
	}
	c.limits.succeeded(subject)
	c.mu.RLock()
	card := c.factors[subject].card
	c.mu.RUnlock()
	if card == ([32]byte{}) {
		return wire.Decision{Outcome: wire.Declined, Subject: subject, Reason: "no_card"}
	}
	p := req.Payment
	if p.Amount > c.ledger.limit {
		return wire.Decision{Outcome: wire.Declined, Subject: subject, Reason: "over_limit"}
	}
	return c.ledger.charge(req.Device, subject, *p)
}

func (l *ledger) charge(device, subject string, p wire.Payment) wire.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := device + "/" + p.Ref
	if got, ok := l.payments[key]; ok {
		if got.Voided || got.Subject != subject || got.Amount != p.Amount || got.Currency != p.Currency {
			return wire.Decision{Outcome: wire.Declined, Subject: subject, Reason: "ref_used"}
		}
		return wire.Decision{Outcome: wire.Approved, Subject: subject, Reference: got.Reference, Reason: "repeated"}
	}
	var b [8]byte
	rand.Read(b[:])
	got := &Payment{Device: device, Ref: p.Ref, Reference: "pay-" + hex.EncodeToString(b[:]), Amount: p.Amount,
		Currency: p.Currency, Subject: subject}
	l.payments[key] = got
	l.order = append(l.order, key)
	return wire.Decision{Outcome: wire.Approved, Subject: subject, Reference: got.Reference}
}

// void takes back the payment of req's device and message id, if there is
// one; voiding what was never charged is no error (the kiosk does not
// know whether its request arrived).
func (l *ledger) void(req wire.Request) wire.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.payments[req.Device+"/"+req.Payment.Ref]; ok {
		p.Voided = true
		return wire.Decision{Outcome: wire.Approved, Reason: "voided"}
	}
	// Mark the ref used, so a late pay request for it charges nothing.
	l.payments[req.Device+"/"+req.Payment.Ref] = &Payment{Device: req.Device, Ref: req.Payment.Ref, Voided: true}
	return wire.Decision{Outcome: wire.Approved, Reason: "nothing_charged"}
}

// Payments returns the payments authorised so far, in order, voided ones
// included; a void for a message id never charged is not one.
func (c *Cloud) Payments() []Payment {
	c.ledger.mu.Lock()
	defer c.ledger.mu.Unlock()
	var ps []Payment
	for _, k := range c.ledger.order {
		ps = append(ps, *c.ledger.payments[k])
	}
	return slices.Clip(ps)
}
