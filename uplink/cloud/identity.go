package cloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

// identified runs the identification the loyalty and age flows start
// with: the subject, or the decision to answer instead.
func (c *Cloud) identified(p probe) (string, *wire.Decision) {
	subject, ok := c.search(p)
	switch {
	case !ok:
		return "", &wire.Decision{Outcome: wire.NotRecognized}
	case c.limits.disabled(subject):
		return "", &wire.Decision{Outcome: wire.Declined, Reason: "biometric_disabled"}
	}
	c.limits.succeeded(subject)
	return subject, nil
}

// loyalty answers the person's loyalty id: a keyed hash of the subject, the
// same at every kiosk, which names nobody outside the loyalty scheme.
func (c *Cloud) loyalty(p probe) wire.Decision {
	subject, d := c.identified(p)
	if d != nil {
		return *d
	}
	m := hmac.New(sha256.New, c.tokenKey)
	m.Write([]byte("loyalty " + subject))
	return wire.Decision{Outcome: wire.Approved, Subject: subject, Reference: "L" + hex.EncodeToString(m.Sum(nil)[:8])}
}

// age answers whether the person is over req.Over years: approved "over",
// or declined "not_over" (also when no birth date is on file). The answer
// holds nothing else: no birth date, no age.
func (c *Cloud) age(req wire.Request, p probe) wire.Decision {
	subject, d := c.identified(p)
	if d != nil {
		return *d
	}
	c.mu.RLock()
	born, ok := c.births[subject]
	c.mu.RUnlock()
	if ok && !born.AddDate(req.Over, 0, 0).After(c.cfg.Now()) {
		return wire.Decision{Outcome: wire.Approved, Subject: subject, Reason: "over"}
	}
	return wire.Decision{Outcome: wire.Declined, Subject: subject, Reason: "not_over"}
}

// SetBirthDate records subject's birth date, as the identity check of the
// enrolment (outside the kiosk) would. With a store (Open) it is kept in
// the enrolment's sealed record, so every instance answers by it and a
// restart keeps it; deleting the enrolment deletes it.
func (c *Cloud) SetBirthDate(subject string, born time.Time) error {
	c.mu.RLock()
	_, ok := c.factors[subject]
	c.mu.RUnlock()
	if !ok {
		return errors.New("cloud: birth date: no such subject")
	}
	if err := c.store.setBorn(subject, born); err != nil {
		return fmt.Errorf("cloud: birth date: %w", err)
	}
	c.mu.Lock()
	c.births[subject] = born
	c.mu.Unlock()
	return nil
}
