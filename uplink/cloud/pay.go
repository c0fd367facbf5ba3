package cloud

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/palmd/palmd/uplink/wire"
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
// message id: in memory, or, once the cloud's store is open, in the
// JetStream bucket PayBucket, so that a restarted instance (or another
// one) charges a repeated message id nothing. In the bucket, concurrent
// charges and voids of one id are ordered by its revision checks (create
// only if absent, update only at the revision read), so no lock is held
// across a round trip and payments of different ids go on at once; in
// memory, mu serialises them.
type ledger struct {
	limit    int64
	mu       sync.Mutex
	payments map[string]*Payment // device/ref → payment (without a bucket)
	order    []string
	kv       jetstream.KeyValue // nil: in memory
	log      *slog.Logger
}

// hold serialises a charge or void on the in-memory ledger; with a bucket
// it holds nothing. Call the function it returns when done.
func (l *ledger) hold() (release func()) {
	l.mu.Lock()
	if l.kv == nil {
		return l.mu.Unlock
	}
	l.mu.Unlock()
	return func() {}
}

// pay authorises req's payment against the card of the palm's enrolment.
// The same device and message id again get the same payment: one charge.
func (c *Cloud) pay(req wire.Request, palm probe) wire.Decision {
	subject, ok := c.search(palm)
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
	defer l.hold()()
	key := device + "/" + p.Ref
	got, _, err := l.get(key)
	if err != nil {
		l.log.Error("cloud: payments unavailable", "device", device, "err", err)
		return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
	}
	for range 2 {
		if got != nil {
			if got.Voided || got.Subject != subject || got.Amount != p.Amount || got.Currency != p.Currency {
				return wire.Decision{Outcome: wire.Declined, Subject: subject, Reason: "ref_used"}
			}
			return wire.Decision{Outcome: wire.Approved, Subject: subject, Reference: got.Reference, Reason: "repeated"}
		}
		var b [8]byte
		rand.Read(b[:])
		got = &Payment{Device: device, Ref: p.Ref, Reference: "pay-" + hex.EncodeToString(b[:]), Amount: p.Amount,
			Currency: p.Currency, Subject: subject}
		switch err := l.create(key, got); {
		case errors.Is(err, jetstream.ErrKeyExists): // another instance charged it first
			if got, _, err = l.get(key); err != nil || got == nil {
				l.log.Error("cloud: payments unavailable", "device", device, "err", err)
				return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
			}
			continue
		case err != nil:
			l.log.Error("cloud: payment not stored", "device", device, "err", err)
			return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
		}
		return wire.Decision{Outcome: wire.Approved, Subject: subject, Reference: got.Reference}
	}
	return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
}

// void takes back the payment of req's device and message id, if there is
// one; voiding what was never charged is no error (the kiosk does not
// know whether its request arrived), and marks the id used, so a late pay
// request for it charges nothing.
func (l *ledger) void(req wire.Request) wire.Decision {
	defer l.hold()()
	key := req.Device + "/" + req.Payment.Ref
	for range 3 {
		p, rev, err := l.get(key)
		if err != nil {
			break
		}
		reason := "voided"
		if p == nil {
			p, reason = &Payment{Device: req.Device, Ref: req.Payment.Ref}, "nothing_charged"
		}
		p.Voided = true
		if rev == 0 {
			err = l.create(key, p)
		} else {
			err = l.update(key, p, rev)
		}
		if err == nil {
			return wire.Decision{Outcome: wire.Approved, Reason: reason}
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongRevision(err) {
			break
		}
	}
	l.log.Error("cloud: void not stored", "device", req.Device)
	return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
}

// payKey is the bucket key of a device/ref: a hash, since refs may hold
// characters keys may not.
func payKey(key string) string { return requestKey("pay/" + key) }

// get returns the payment stored under key (nil if none) and its
// revision (0 in memory or when none).
func (l *ledger) get(key string) (*Payment, uint64, error) {
	if l.kv == nil {
		p, ok := l.payments[key]
		if !ok {
			return nil, 0, nil
		}
		cp := *p
		return &cp, 1, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	e, err := l.kv.Get(ctx, payKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var p Payment
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return nil, 0, fmt.Errorf("cloud: stored payment: %w", err)
	}
	return &p, e.Revision(), nil
}

// create stores p under key unless something is stored there already
// (jetstream.ErrKeyExists).
func (l *ledger) create(key string, p *Payment) error {
	if l.kv == nil {
		if _, ok := l.payments[key]; ok {
			return jetstream.ErrKeyExists
		}
		l.payments[key] = p
		l.order = append(l.order, key)
		return nil
	}
	b, _ := json.Marshal(p)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := l.kv.Create(ctx, payKey(key), b)
	return err
}

// update replaces the payment under key if it is still at revision rev.
func (l *ledger) update(key string, p *Payment, rev uint64) error {
	if l.kv == nil {
		l.payments[key] = p
		return nil
	}
	b, _ := json.Marshal(p)
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := l.kv.Update(ctx, payKey(key), b, rev)
	return err
}

// isWrongRevision reports an update that lost a race with another writer.
func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Payments returns the payments authorised so far, in the order they were
// last written (charged, or voided), voided ones
// included; a void for a message id never charged is not one. With a
// store they are read from PayBucket: every instance's, before and after
// restarts.
func (c *Cloud) Payments() []Payment {
	l := &c.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	var ps []Payment
	if l.kv == nil {
		for _, k := range l.order {
			if p := l.payments[k]; p.Reference != "" {
				ps = append(ps, *p)
			}
		}
		return slices.Clip(ps)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	keys, err := l.kv.ListKeys(ctx)
	if err != nil {
		return nil
	}
	type rp struct {
		rev uint64
		p   Payment
	}
	var all []rp
	for k := range keys.Keys() {
		e, err := l.kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var p Payment
		if json.Unmarshal(e.Value(), &p) == nil && p.Reference != "" {
			all = append(all, rp{e.Revision(), p})
		}
	}
	slices.SortFunc(all, func(a, b rp) int { return cmp.Compare(a.rev, b.rev) })
	for _, x := range all {
		ps = append(ps, x.p)
	}
	return ps
}
