package cloud

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// Config configures a Cloud.
type Config struct {
	// Seal opens palm and phone parts; Payment opens card parts.
	Seal, Payment *seal.Opener
	// SignKey signs decisions and commands.
	SignKey ed25519.PrivateKey
	Logger  *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// TTL is how long a signed decision or command is valid; 1 minute if 0.
	TTL time.Duration
	// MaxAge is how old (or how far in the future) a request's time may
	// be; 2 minutes if 0.
	MaxAge time.Duration
}

// Cloud is the reference cloud: an in-memory enrolment store with linear
// 1:N search. It is safe for concurrent use.
type Cloud struct {
	cfg      Config
	log      *slog.Logger
	tokenKey [32]byte // keys the payment and phone tokens

	mu   sync.Mutex
	subs []enrolment
	seen map[string]time.Time // device/request id → request time, for MaxAge
}

// enrolment is one enrolled person. Only the template and keyed tokens of
// phone and card are kept, never the clear numbers.
type enrolment struct {
	subject string
	tmpl    match.Template
	phone   [32]byte
	card    [32]byte
}

// New returns a Cloud with an empty store.
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
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 2 * time.Minute
	}
	c := &Cloud{cfg: cfg, log: cfg.Logger, seen: map[string]time.Time{}}
	rand.Read(c.tokenKey[:])
	return c, nil
}

// Enrolled returns the number of enrolled subjects.
func (c *Cloud) Enrolled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs)
}

// Subscribe answers every kiosk's requests arriving on nc, from the moment
// it returns until the subscription is unsubscribed or nc is closed.
func (c *Cloud) Subscribe(nc *nats.Conn) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(wire.AllRequests, "palmcloud", func(m *nats.Msg) {
		reply, err := c.Handle(m.Subject, m.Data)
		if err != nil {
			c.log.Warn("cloud: request dropped", "subject", m.Subject, "err", err)
			return
		}
		if err := m.Respond(reply); err != nil {
			c.log.Warn("cloud: reply failed", "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("cloud: subscribe: %w", err)
	}
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("cloud: subscribe: %w", err)
	}
	return sub, nil
}

// Handle answers one request received on subject and returns the signed
// decision. It returns an error (and no reply) only for a request it cannot
// attribute to a device and request id.
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
	d := c.decide(req)
	d.Request = req.ID
	c.log.Info("cloud: decision", "device", req.Device, "request", req.ID, "flow", req.Flow,
		"outcome", d.Outcome, "reason", d.Reason)
	return c.sign(req.Device, wire.Statement{Kind: wire.KindDecision, Decision: &d})
}

// Command returns the signed statement carrying cmd for device.
func (c *Cloud) Command(device string, cmd wire.Command) ([]byte, error) {
	return c.sign(device, wire.Statement{Kind: wire.KindCommand, Command: &cmd})
}

// Send signs cmd and publishes it to device's command subject on nc.
func (c *Cloud) Send(nc *nats.Conn, device string, cmd wire.Command) error {
	b, err := c.Command(device, cmd)
	if err != nil {
		return err
	}
	if err := nc.Publish(wire.CommandSubject(device, cmd.Type), b); err != nil {
		return fmt.Errorf("cloud: send command: %w", err)
	}
	return nil
}

func (c *Cloud) sign(device string, st wire.Statement) ([]byte, error) {
	now := c.cfg.Now()
	st.Device, st.Nonce, st.IssuedAt, st.Expires = device, wire.NewNonce(), now, now.Add(c.cfg.TTL)
	b, err := wire.Sign(c.cfg.SignKey, st)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	return b, nil
}

func (c *Cloud) decide(req wire.Request) wire.Decision {
	now := c.cfg.Now()
	if age := now.Sub(req.Time); age > c.cfg.MaxAge || age < -c.cfg.MaxAge {
		return wire.Decision{Outcome: wire.Retry, Reason: "stale_request"}
	}
	if !c.firstSeen(req, now) {
		return wire.Decision{Outcome: wire.Declined, Reason: "replayed_request"}
	}
	tmpl, err := c.template(req)
	if err != nil {
		c.log.Warn("cloud: unusable palm", "device", req.Device, "request", req.ID, "err", err)
		return wire.Decision{Outcome: wire.Retry, Reason: "unusable_capture"}
	}
	switch req.Flow {
	case wire.FlowEnrol:
		return c.enrol(req, tmpl)
	case wire.FlowIdentify:
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := c.search(tmpl); i >= 0 {
			return wire.Decision{Outcome: wire.Approved, Subject: c.subs[i].subject}
		}
		return wire.Decision{Outcome: wire.NotRecognized}
	default: // wire.FlowDelete; DecodeRequest accepts no other flow
		c.mu.Lock()
		defer c.mu.Unlock()
		i := c.search(tmpl)
		if i < 0 {
			return wire.Decision{Outcome: wire.NotRecognized}
		}
		subject := c.subs[i].subject
		c.subs = append(c.subs[:i], c.subs[i+1:]...)
		return wire.Decision{Outcome: wire.Approved, Subject: subject, Reason: "deleted"}
	}
}

func (c *Cloud) enrol(req wire.Request, tmpl match.Template) wire.Decision {
	phone, err := c.token(c.cfg.Seal, req, seal.PartPhone)
	if err != nil {
		return wire.Decision{Outcome: wire.Declined, Reason: "phone_unreadable"}
	}
	card, err := c.token(c.cfg.Payment, req, seal.PartCard)
	if err != nil {
		return wire.Decision{Outcome: wire.Declined, Reason: "card_unreadable"}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.search(tmpl) >= 0 {
		return wire.Decision{Outcome: wire.Declined, Reason: "duplicate_palm"}
	}
	var id [12]byte
	rand.Read(id[:])
	e := enrolment{subject: "sub-" + hex.EncodeToString(id[:]), tmpl: tmpl, phone: phone, card: card}
	c.subs = append(c.subs, e)
	return wire.Decision{Outcome: wire.Approved, Subject: e.subject, Reason: "enrolled"}
}

// firstSeen records req's id and reports whether it is new. Ids are
// remembered for as long as a request's time is acceptable (MaxAge), so a
// captured request cannot be answered twice.
func (c *Cloud) firstSeen(req wire.Request, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := req.Device + "/" + req.ID
	if _, ok := c.seen[key]; ok {
		return false
	}
	for k, t := range c.seen {
		if now.Sub(t) > c.cfg.MaxAge {
			delete(c.seen, k)
		}
	}
	c.seen[key] = req.Time
	return true
}

// search returns the index of the best enrolment at or above
// match.Threshold, or -1. c.mu must be held.
func (c *Cloud) search(t match.Template) int {
	best, bestScore := -1, match.Threshold
	for i := range c.subs {
		if s := match.Similarity(t, c.subs[i].tmpl); s >= bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// template opens the palm part and computes its template; the clear capture
// is zeroed before return.
func (c *Cloud) template(req wire.Request) (match.Template, error) {
	pt, err := c.cfg.Seal.Open(seal.ContextOf(req, seal.PartPalm), req.Palm)
	if err != nil {
		return match.Template{}, err
	}
	defer clear(pt)
	roi, err := wire.ParseCapture(pt)
	if err != nil {
		return match.Template{}, err
	}
	defer clear(roi.Pix)
	return match.NewTemplate(roi)
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
	m := hmac.New(sha256.New, c.tokenKey[:])
	m.Write(pt)
	return [32]byte(m.Sum(nil)), nil
}
