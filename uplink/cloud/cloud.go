package cloud

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/palmd/palmd/uplink/cloud/index"
	"github.com/palmd/palmd/uplink/internal/replay"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// ErrUnknownFlow reports a request whose flow the cloud does not handle.
var ErrUnknownFlow = errors.New("cloud: flow not handled")

// Config configures a Cloud.
type Config struct {
	// Seal opens palm and phone parts; Payment opens card parts.
	Seal, Payment *seal.Opener
	// SignKey signs decisions and commands. Keys for the phone and card
	// tokens and for enrolments at rest are derived from it, so every
	// instance given the same key reads the same store.
	SignKey ed25519.PrivateKey
	Logger  *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// TTL is how long a signed decision is valid; 1 minute if 0.
	TTL time.Duration
	// CommandTTL is how long a signed command is valid, and so how long it
	// waits for an offline kiosk; 24 hours if 0.
	CommandTTL time.Duration
	// MaxAge is how old (or how far in the future) a request's time may
	// be; 2 minutes if 0.
	MaxAge time.Duration
	// Workers bounds the requests answered at once; 16 if 0.
	Workers int
	// QueueTimeout is how long a request may wait for a worker before it
	// is shed (a kiosk waits a few seconds for its answer); 2 s if 0.
	// It is measured on Now, like everything else here.
	QueueTimeout time.Duration
	// MaxRequests bounds the request ids remembered (each for 2*MaxAge);
	// 1<<20 if 0.
	MaxRequests int
	// KioskRate is how many requests a second each kiosk may send on
	// average, KioskBurst how many at once; 1 and 30 if 0 (a kiosk serves
	// one person at a time, a request every few seconds). A kiosk past
	// its rate is answered retry "rate_limited" without any matching, so
	// one kiosk cannot slow the others.
	KioskRate  rate.Limit
	KioskBurst int
	// PayLimit is the largest amount (minor units) a payment is approved
	// for; larger ones are declined "over_limit". 500_00 if 0.
	PayLimit int64
	// MaxFailures is how many failed attempts attributed to one enrolment
	// disable its biometric (NIST SP 800-63B-4: at most 100); 100 if 0.
	MaxFailures int
}

// Cloud is the reference cloud: enrolments in an index searched in
// parallel, optionally kept in a JetStream key-value bucket (Open). It is
// safe for concurrent use.
type Cloud struct {
	cfg      Config
	log      *slog.Logger
	tokenKey []byte // keys the payment and phone tokens
	rest     *atRest

	mu  sync.RWMutex // guards idx and factors: searches share it, changes take it alone
	idx *index.Index
	// factors holds each enrolment's second factors (keyed tokens of
	// phone and card), for deletion.
	factors map[string]factors
	births  map[string]time.Time        // subject → birth date, for the age flow
	pending map[string]pendingEnrolment // begun in the phone app, by id (pending.go)

	limits attemptLimits
	ledger ledger

	seen  *replay.Window[[]byte] // device/request id → signed reply (nil while in progress)
	store *store                 // nil without JetStream
	seq   sequencer              // numbers each device's commands (command.go)
	wg    sync.WaitGroup
	stats struct{ answered, refused, dropped, shed atomic.Uint64 }
}

// New returns a Cloud with an empty in-memory store.
func New(cfg Config) (*Cloud, error) {
	if cfg.Seal == nil || cfg.Payment == nil || len(cfg.SignKey) != ed25519.PrivateKeySize {
		return nil, errors.New("cloud: seal and payment openers and a signing key are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Minute
	}
	if cfg.CommandTTL == 0 {
		cfg.CommandTTL = 24 * time.Hour
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 2 * time.Minute
	}
	if cfg.Workers == 0 {
		cfg.Workers = 16
	}
	if cfg.QueueTimeout == 0 {
		cfg.QueueTimeout = 2 * time.Second
	}
	if cfg.MaxRequests == 0 {
		cfg.MaxRequests = 1 << 20
	}
	if cfg.KioskRate == 0 {
		cfg.KioskRate = 1
	}
	if cfg.KioskBurst == 0 {
		cfg.KioskBurst = 30
	}
	if cfg.PayLimit == 0 {
		cfg.PayLimit = 500_00
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 100
	}
	tokenKey, err := hkdf.Key(sha256.New, cfg.SignKey.Seed(), nil, "palmcloud token key v1", 32)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	rest, err := newAtRest(cfg.SignKey.Seed())
	if err != nil {
		return nil, err
	}
	return &Cloud{
		cfg: cfg, log: cfg.Logger, tokenKey: tokenKey, rest: rest, idx: index.New(), factors: map[string]factors{}, births: map[string]time.Time{},
		pending: map[string]pendingEnrolment{},
		limits:  newAttemptLimits(cfg), ledger: ledger{limit: cfg.PayLimit, payments: map[string]*Payment{}, log: cfg.Logger},
		// A request is acceptable while its time is within MaxAge of now,
		// and its time is at most MaxAge ahead of its arrival.
		seen: replay.New[[]byte](2*cfg.MaxAge, cfg.MaxRequests),
	}, nil
}

// Enrolled returns the number of enrolled subjects.
func (c *Cloud) Enrolled() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.factors)
}

// Handle answers one request received on subject and returns the signed
// decision. It returns an error (and no reply) only for a request it cannot
// attribute to a device and request id. A request id answered before gets
// the same signed reply again (idempotent: a kiosk that lost the answer
// may ask again; a replayed answer carries a nonce the kiosk has seen).
func (c *Cloud) Handle(subject string, data []byte) ([]byte, error) {
	req, err := wire.DecodeRequest(data)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	// The subject is what NATS permissions vouch for: the device id and
	// flow inside the request must match it.
	if subject != wire.RequestSubject(req.Device, req.Flow) {
		return nil, fmt.Errorf("cloud: request for %s on subject %s", req.Device, subject)
	}
	now := c.cfg.Now()
	if age := now.Sub(req.Time); age > c.cfg.MaxAge || age < -c.cfg.MaxAge {
		return c.answer(req, wire.Decision{Outcome: wire.Retry, Reason: "stale_request"})
	}
	// Before any work: a kiosk past its rate costs the cloud a signature.
	// A void is never refused: it takes back a charge.
	if req.Flow != wire.FlowVoid && !c.limits.allow(req.Device, now) {
		return c.answer(req, wire.Decision{Outcome: wire.Retry, Reason: "rate_limited"})
	}
	key := req.Device + "/" + req.ID
	prev, fresh, err := c.seen.Add(key, nil, now)
	switch {
	case err != nil:
		return c.answer(req, wire.Decision{Outcome: wire.Retry, Reason: "busy"})
	case !fresh && prev == nil:
		return nil, fmt.Errorf("cloud: request %s of %s already in progress", req.ID, req.Device)
	case !fresh:
		return prev, nil
	}
	// Another instance may have answered this id (a kiosk sent it again
	// after losing the answer). Identification may run twice (an app
	// enrolment it completed is then found enrolled), so its answer is
	// neither looked up nor stored, which spares the store a replicated
	// write per identification: asked again, this instance answers from
	// memory, another decides again. Every other flow must not run twice:
	// it looks first and stores its answer before it is sent.
	kept := req.Flow != wire.FlowIdentify
	if kept {
		if reply, ok := c.store.answered(key); ok {
			c.seen.Set(key, reply)
			return reply, nil
		}
	}
	d, err := c.decide(req)
	if err != nil {
		return nil, err
	}
	reply, err := c.answer(req, d)
	if err != nil {
		return nil, err
	}
	if kept {
		reply = c.store.remember(key, reply)
	}
	c.seen.Set(key, reply)
	return reply, nil
}

// answer signs d as the answer to req.
func (c *Cloud) answer(req wire.Request, d wire.Decision) ([]byte, error) {
	d.Request = req.ID
	c.log.Info("cloud: decision", "device", req.Device, "request", req.ID, "flow", req.Flow,
		"outcome", d.Outcome, "reason", d.Reason)
	return c.sign(req.Device, wire.Statement{Kind: wire.KindDecision, Decision: &d}, c.cfg.TTL)
}

func (c *Cloud) sign(device string, st wire.Statement, ttl time.Duration) ([]byte, error) {
	now := c.cfg.Now()
	st.Device, st.Nonce, st.IssuedAt, st.Expires = device, wire.NewNonce(), now, now.Add(ttl)
	b, err := wire.Sign(c.cfg.SignKey, st)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	return b, nil
}

// decide runs req's flow. Every wire.Flow has its case; a flow without one
// is refused with ErrUnknownFlow, never taken for another.
func (c *Cloud) decide(req wire.Request) (wire.Decision, error) {
	switch req.Flow {
	case wire.FlowEnrol, wire.FlowIdentify, wire.FlowDelete, wire.FlowPay, wire.FlowLoyalty, wire.FlowAge:
	case wire.FlowVoid:
		return c.ledger.void(req), nil
	default:
		return wire.Decision{}, fmt.Errorf("%w: %.32q (handled: enrol, identify, delete, pay, void, loyalty, age)", ErrUnknownFlow, req.Flow)
	}
	tmpls, err := c.templates(req)
	defer func() {
		for _, t := range tmpls {
			if t.roi != nil {
				clear(t.roi.Pix)
			}
		}
	}()
	if err != nil {
		c.log.Warn("cloud: unusable palm", "device", req.Device, "request", req.ID, "err", err)
		return wire.Decision{Outcome: wire.Retry, Reason: "unusable_capture"}, nil
	}
	if req.Flow == wire.FlowEnrol {
		return c.enrol(req, tmpls), nil
	}
	if len(tmpls) != 1 {
		c.log.Warn("cloud: unusable palm", "device", req.Device, "request", req.ID, "captures", len(tmpls))
		return wire.Decision{Outcome: wire.Retry, Reason: "unusable_capture"}, nil
	}
	tmpl := tmpls[0].tmpl
	p := probe{tmpl: tmpl, roi: tmpls[0].roi}
	switch req.Flow {
	case wire.FlowIdentify:
		subject, ok := c.search(p)
		switch {
		case !ok:
			if d, done := c.completePending(req, tmpl); done {
				return d, nil
			}
			return wire.Decision{Outcome: wire.NotRecognized}, nil
		case c.limits.disabled(subject):
			return wire.Decision{Outcome: wire.Declined, Reason: "biometric_disabled"}, nil
		}
		c.limits.succeeded(subject)
		return wire.Decision{Outcome: wire.Approved, Subject: subject}, nil
	case wire.FlowDelete:
		return c.delete(req, p), nil
	case wire.FlowPay:
		return c.pay(req, p), nil
	case wire.FlowLoyalty:
		return c.loyalty(p), nil
	case wire.FlowAge:
		return c.age(req, p), nil
	}
	panic("unreachable: flows checked above")
}

// probe is the palm a request identifies with: its template and, but for
// an enrolment's duplicate check, a copy of its region, which decide
// zeroes.
type probe struct {
	tmpl match.Template
	roi  *image.Gray
}

// search returns the subject of the enrolment one of whose templates
// (captures of either palm) p's template matches best. If it matches
// none, p's other poses (match.Poses, coded from its region) are searched
// for in turn and the first that matches answers, so that a region
// vision/roi placed a little off is still recognised while a probe
// placed well costs one template and one search.
func (c *Cloud) search(p probe) (string, bool) {
	if subject, ok := c.searchOne(p.tmpl); ok || p.roi == nil {
		return subject, ok
	}
	poses, err := match.Poses(p.roi)
	if err != nil {
		return "", false
	}
	for _, t := range poses[1:] {
		if subject, ok := c.searchOne(t); ok {
			return subject, true
		}
	}
	return "", false
}

// searchOne searches the index for one template.
func (c *Cloud) searchOne(t match.Template) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, _, ok := c.idx.Search(t)
	subject, _, _ := strings.Cut(id, "/")
	return subject, ok
}

// indexID is the index's id of an enrolment's i-th template: the subject
// for the first, subject/i for the others.
func indexID(subject string, i int) string {
	if i == 0 {
		return subject
	}
	return subject + "/" + strconv.Itoa(i)
}

// delete removes the enrolment that both the palm and the second factor
// (the card enrolled, or the phone number given) belong to. Any failure,
// of the palm, of the factor or of both, gets the same answer (not
// recognised, no subject, no reason), so a caller learns nothing of which
// failed; a failure with a palm that matched counts against that
// enrolment.
func (c *Cloud) delete(req wire.Request, p probe) wire.Decision {
	nothing := wire.Decision{Outcome: wire.NotRecognized}
	factor, isCard, factorErr := c.secondFactor(req)
	subject, ok := c.search(p)
	if !ok {
		return nothing
	}
	c.mu.RLock()
	held, known := c.factors[subject]
	c.mu.RUnlock()
	want := held.phone
	if isCard {
		want = held.card
	}
	if factorErr != nil || !known || want == ([32]byte{}) || subtle.ConstantTimeCompare(want[:], factor[:]) != 1 ||
		c.limits.disabled(subject) {
		c.limits.failed(subject)
		return nothing
	}
	if err := c.store.delete(subject); err != nil {
		c.log.Error("cloud: deletion not stored", "device", req.Device, "request", req.ID, "err", err)
		return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
	}
	c.remove(subject)
	return wire.Decision{Outcome: wire.Approved, Subject: subject, Reason: "deleted"}
}

// secondFactor opens the one second factor a deletion carries: the card
// (isCard) or the phone number. Neither, or both, is an error.
func (c *Cloud) secondFactor(req wire.Request) (tok [32]byte, isCard bool, err error) {
	switch {
	case len(req.Card) > 0 && len(req.Phone) == 0:
		tok, err = c.token(c.cfg.Payment, req, seal.PartCard)
		return tok, true, err
	case len(req.Phone) > 0 && len(req.Card) == 0:
		tok, err = c.token(c.cfg.Seal, req, seal.PartPhone)
		return tok, false, err
	}
	return tok, false, errors.New("cloud: a deletion carries exactly one second factor, card or phone")
}

// factors are the keyed tokens of one enrolment's phone and card.
type factors struct{ phone, card [32]byte }

// add puts an enrolment's templates (every palm's kept captures) in the
// index.
func (c *Cloud) add(subject string, palms []match.Template, f factors) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, t := range palms {
		c.idx.Add(indexID(subject, i), t)
	}
	c.factors[subject] = f
}

// remove takes an enrolment out of the index and forgets its failures.
func (c *Cloud) remove(subject string) {
	c.mu.Lock()
	for i := range maxPalms {
		c.idx.Remove(indexID(subject, i))
	}
	delete(c.factors, subject)
	delete(c.births, subject)
	c.mu.Unlock()
	c.limits.forget(subject)
}

// handTemplate is the template of one capture and the palm it is of;
// roi, for a probe (every flow but enrolment), a copy of its region,
// which the caller zeroes.
type handTemplate struct {
	hand wire.Hand
	tmpl match.Template
	roi  *image.Gray
}

// templates opens the palm part and computes the template of each of its
// captures; the clear captures are zeroed before return, a probe's copy
// of its region (roi) by the caller.
func (c *Cloud) templates(req wire.Request) ([]handTemplate, error) {
	pt, err := c.cfg.Seal.Open(seal.ContextOf(req, seal.PartPalm), req.Palm)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	caps, err := wire.ParseCaptures(pt)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, cp := range caps {
			clear(cp.ROI.Pix)
		}
	}()
	out := make([]handTemplate, len(caps))
	for i, cp := range caps {
		if out[i].tmpl, err = match.NewTemplate(cp.ROI); err != nil {
			return out, fmt.Errorf("capture %d of %d: %w", i+1, len(caps), err)
		}
		if req.Flow != wire.FlowEnrol {
			out[i].roi = image.NewGray(cp.ROI.Rect)
			copy(out[i].roi.Pix, cp.ROI.Pix)
		}
		out[i].hand = cp.Hand
	}
	return out, nil
}

// token opens a phone or card part and returns its keyed hash; the clear
// number is zeroed before return.
func (c *Cloud) token(o *seal.Opener, req wire.Request, part string) ([32]byte, error) {
	sealed := req.Phone
	if part == seal.PartCard {
		sealed = req.Card
	}
	pt, err := o.Open(seal.ContextOf(req, part), sealed)
	if err != nil {
		return [32]byte{}, err
	}
	defer clear(pt)
	if len(pt) == 0 {
		return [32]byte{}, errors.New("cloud: empty " + part)
	}
	return c.tokenOf(pt), nil
}

// Import enrols tmpl without a kiosk request, with no phone or card token:
// a bulk load, as a migration from another store or a load test does. It
// returns the new subject pseudonym.
func (c *Cloud) Import(tmpl match.Template) (string, error) {
	subject := newSubject()
	if err := c.store.put(subject, c.rest.seal(subject, record{palms: []match.Template{tmpl}})); err != nil {
		return "", fmt.Errorf("cloud: import: %w", err)
	}
	c.add(subject, []match.Template{tmpl}, factors{})
	return subject, nil
}

// newSubject returns a fresh random subject pseudonym.
func newSubject() string {
	var id [12]byte
	rand.Read(id[:])
	return "sub-" + hex.EncodeToString(id[:])
}
