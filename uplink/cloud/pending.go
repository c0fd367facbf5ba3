package cloud

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// PendingTTL is how long an enrolment begun in the phone app waits for its
// first capture at a kiosk.
const PendingTTL = 24 * time.Hour

// pendingEnrolment is an enrolment begun in the phone app: the template of
// the palm photo and the tokens of phone and card, waiting for the first
// capture at a kiosk.
type pendingEnrolment struct {
	tmpl match.Template
	f    factors
	at   time.Time
	rev  uint64 // its revision in PendingBucket (0 without a store)
}

// AddPending holds an enrolment begun in the phone app: photo is the palm
// region the app cut from its photo, phone and card the numbers it took
// (zeroed here once tokenised). The first kiosk capture that matches it
// completes it (identify answers approved, "app_enrolment_completed").
// It returns the pending enrolment's id.
func (c *Cloud) AddPending(photo *image.Gray, phone, card []byte) (string, error) {
	defer clear(phone)
	defer clear(card)
	if len(phone) == 0 || len(card) == 0 {
		return "", errors.New("cloud: pending enrolment: phone and card are required")
	}
	tmpl, err := match.NewTemplate(photo)
	if err != nil {
		return "", fmt.Errorf("cloud: pending enrolment: photo: %w", err)
	}
	var b [12]byte
	rand.Read(b[:])
	id := "app-" + hex.EncodeToString(b[:])
	p := pendingEnrolment{tmpl: tmpl, f: factors{phone: c.tokenOf(phone), card: c.tokenOf(card)}, at: c.cfg.Now()}
	if p.rev, err = c.store.putPending(id, c.rest.seal(id, record{palms: []match.Template{tmpl}, phone: p.f.phone, card: p.f.card})); err != nil {
		return "", fmt.Errorf("cloud: pending enrolment not stored: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.pending[id]; !ok || old.rev < p.rev { // the watch may have brought it first
		c.pending[id] = p
	}
	return id, nil
}

// Pending returns how many enrolments begun in the app wait for a kiosk.
func (c *Cloud) Pending() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.pending)
}

// tokenOf is the keyed hash of a phone or card number.
func (c *Cloud) tokenOf(number []byte) [32]byte {
	m := hmac.New(sha256.New, c.tokenKey)
	m.Write(number)
	return [32]byte(m.Sum(nil))
}

// completePending enrols tmpl, the first kiosk capture, for the pending
// enrolment whose photo it matches best, if any, with the photo's phone
// and card; the photo's template is dropped. Expired ones are dropped.
func (c *Cloud) completePending(req wire.Request, tmpl match.Template) (wire.Decision, bool) {
	now := c.cfg.Now()
	c.mu.Lock()
	best, score := "", match.Threshold
	for id, p := range c.pending {
		if now.Sub(p.at) > PendingTTL {
			delete(c.pending, id)
			continue
		}
		if s := match.Similarity(p.tmpl, tmpl); s >= score {
			best, score = id, s
		}
	}
	p, ok := c.pending[best]
	delete(c.pending, best)
	c.mu.Unlock()
	if !ok {
		return wire.Decision{}, false
	}
	// One instance completes it: the one whose deletion of this revision
	// succeeds.
	if err := c.store.takePending(best, p.rev); err != nil {
		c.log.Warn("cloud: pending enrolment taken elsewhere or unavailable", "device", req.Device, "request", req.ID, "err", err)
		return wire.Decision{}, false
	}
	subject := newSubject()
	if err := c.store.put(subject, c.rest.seal(subject, record{palms: []match.Template{tmpl}, phone: p.f.phone, card: p.f.card})); err != nil {
		c.log.Error("cloud: app enrolment not stored", "device", req.Device, "request", req.ID, "err", err)
		// It waits for the next capture.
		if p.rev, err = c.store.putPending(best, c.rest.seal(best, record{palms: []match.Template{p.tmpl}, phone: p.f.phone, card: p.f.card})); err != nil {
			c.log.Error("cloud: pending enrolment lost", "err", err)
		}
		c.mu.Lock()
		c.pending[best] = p
		c.mu.Unlock()
		return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}, true
	}
	c.add(subject, []match.Template{tmpl}, p.f)
	return wire.Decision{Outcome: wire.Approved, Subject: subject, Reason: "app_enrolment_completed"}, true
}
