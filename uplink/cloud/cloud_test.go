package cloud

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

type fixture struct {
	cloud      *Cloud
	palm, card *seal.Sealer
	signPub    ed25519.PublicKey
	now        time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	openers := make([]*seal.Opener, 2)
	sealers := make([]*seal.Sealer, 2)
	for i := range openers {
		pub, priv, err := seal.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		openers[i], _ = seal.NewOpener(priv)
		sealers[i], _ = seal.NewSealer(pub)
	}
	f.palm, f.card = sealers[0], sealers[1]
	pub, priv, _ := ed25519.GenerateKey(nil)
	f.signPub = pub
	var err error
	f.cloud, err = New(Config{Seal: openers[0], Payment: openers[1], SignKey: priv, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func texture(seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 2))
	img := image.NewGray(image.Rect(0, 0, 128, 128))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// request builds a request; parts left nil in with are sealed normally.
type parts struct {
	palm        []byte // plaintext palm record; nil = texture(1)
	phone, card []byte
	cardToPalm  bool // seal the card to the palm key (wrong key)
	age         time.Duration
	device      string // "kiosk-1" if empty
}

func (f *fixture) request(t *testing.T, id string, fl wire.Flow, p parts) wire.Request {
	t.Helper()
	if p.device == "" {
		p.device = "kiosk-1"
	}
	r := wire.Request{ID: id, Device: p.device, Flow: fl, Time: f.now.Add(-p.age)}
	if p.palm == nil {
		p.palm = wire.AppendCapture(nil, texture(1))
	}
	var err error
	if r.Palm, err = f.palm.Seal(seal.ContextOf(r, seal.PartPalm), p.palm); err != nil {
		t.Fatal(err)
	}
	if p.phone != nil {
		r.Phone, _ = f.palm.Seal(seal.ContextOf(r, seal.PartPhone), p.phone)
	}
	if p.card != nil {
		cs := f.card
		if p.cardToPalm {
			cs = f.palm
		}
		r.Card, _ = cs.Seal(seal.ContextOf(r, seal.PartCard), p.card)
	}
	return r
}

func (f *fixture) handle(t *testing.T, r wire.Request) wire.Decision {
	t.Helper()
	b, err := wire.EncodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := f.cloud.Handle(wire.RequestSubject(r.Device, r.Flow), b)
	if err != nil {
		t.Fatal(err)
	}
	st, err := wire.Verify(f.signPub, reply)
	if err != nil {
		t.Fatal(err)
	}
	if st.Device != r.Device || st.Kind != wire.KindDecision || st.Decision.Request != r.ID ||
		!st.IssuedAt.Equal(f.now) || !st.Expires.After(f.now) {
		t.Fatalf("statement %+v does not answer request %s", st, r.ID)
	}
	return *st.Decision
}

func TestDecisions(t *testing.T) {
	phone, card := []byte("+15550100"), []byte("4111111111111111")
	tests := []struct {
		name   string
		flow   wire.Flow
		parts  parts
		want   wire.Outcome
		reason string
	}{
		{"identify before enrolment", wire.FlowIdentify, parts{}, wire.NotRecognized, ""},
		{"delete unknown", wire.FlowDelete, parts{}, wire.NotRecognized, ""},
		{"enrol without card", wire.FlowEnrol, parts{phone: phone}, wire.Declined, "card_unreadable"},
		{"enrol without phone", wire.FlowEnrol, parts{card: card}, wire.Declined, "phone_unreadable"},
		{"card sealed to the wrong key", wire.FlowEnrol, parts{phone: phone, card: card, cardToPalm: true}, wire.Declined, "card_unreadable"},
		{"stale request", wire.FlowIdentify, parts{age: time.Hour}, wire.Retry, "stale_request"},
		{"not a palm record", wire.FlowIdentify, parts{palm: []byte("garbage")}, wire.Retry, "unusable_capture"},
		{"enrol", wire.FlowEnrol, parts{phone: phone, card: card}, wire.Approved, "enrolled"},
		{"enrol again", wire.FlowEnrol, parts{phone: phone, card: card}, wire.Declined, "duplicate_palm"},
		{"identify", wire.FlowIdentify, parts{}, wire.Approved, ""},
		{"identify another palm", wire.FlowIdentify, parts{palm: wire.AppendCapture(nil, texture(2))}, wire.NotRecognized, ""},
		{"delete", wire.FlowDelete, parts{phone: phone}, wire.Approved, "deleted"},
		{"identify after delete", wire.FlowIdentify, parts{}, wire.NotRecognized, ""},
	}
	f := newFixture(t)
	var subject string
	for i, tt := range tests {
		d := f.handle(t, f.request(t, "req-"+string(rune('a'+i)), tt.flow, tt.parts))
		if d.Outcome != tt.want || d.Reason != tt.reason {
			t.Fatalf("%s: %s/%s, want %s/%s", tt.name, d.Outcome, d.Reason, tt.want, tt.reason)
		}
		switch tt.name {
		case "enrol":
			subject = d.Subject
		case "identify", "delete":
			if d.Subject != subject || subject == "" {
				t.Fatalf("%s: subject %q, want %q", tt.name, d.Subject, subject)
			}
		}
	}
	if n := f.cloud.Enrolled(); n != 0 {
		t.Fatalf("%d enrolments left", n)
	}
}

// TestRepeatedRequest: a request id answered before gets the very same
// signed reply (same nonce, which the kiosk refuses if it has seen it), so
// a repeated enrolment enrols nobody twice and a kiosk that lost an answer
// may ask again.
func TestRepeatedRequest(t *testing.T) {
	f := newFixture(t)
	r := f.request(t, "req-1", wire.FlowEnrol, parts{phone: []byte("+15550100"), card: []byte("4111111111111111")})
	b, _ := wire.EncodeRequest(r)
	first, err := f.cloud.Handle(wire.RequestSubject(r.Device, r.Flow), b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.cloud.Handle(wire.RequestSubject(r.Device, r.Flow), b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Fatal("a repeated request id got a different answer")
	}
	if n := f.cloud.Enrolled(); n != 1 {
		t.Fatalf("%d enrolments after a repeated enrol, want 1", n)
	}
	f.now = f.now.Add(time.Hour) // the id is forgotten once the request is too old anyway
	if d := f.handle(t, f.request(t, "req-2", wire.FlowIdentify, parts{})); d.Outcome != wire.Approved {
		t.Fatalf("later request: %+v", d)
	}
	if n := f.cloud.seen.Len(); n != 1 {
		t.Fatalf("%d request ids remembered, want 1 (old ones forgotten)", n)
	}
}

// TestEveryFlowHandled holds the cloud to wire.Flows: each flow reaches its
// own case, and a flow the cloud does not know is refused with a clear
// error, never taken for another flow.
func TestEveryFlowHandled(t *testing.T) {
	f := newFixture(t)
	for i, fl := range wire.Flows() {
		r := f.request(t, fmt.Sprint("req-", i), fl, parts{})
		if fl == wire.FlowPay || fl == wire.FlowVoid {
			r.Payment = &wire.Payment{Ref: "m1", Amount: 100, Currency: "EUR", Merchant: "Shop"}
		}
		if fl == wire.FlowAge {
			r.Over = 18
		}
		if _, err := f.cloud.decide(r); err != nil {
			t.Errorf("flow %s: %v", fl, err)
		}
	}
	r := f.request(t, "req-x", wire.FlowIdentify, parts{})
	r.Flow = "teleport"
	_, err := f.cloud.decide(r)
	if !errors.Is(err, ErrUnknownFlow) || !strings.Contains(err.Error(), `"teleport"`) || !strings.Contains(err.Error(), "enrol, identify, delete, pay, void, loyalty, age") {
		t.Fatalf("unknown flow: %v, want ErrUnknownFlow naming it and the handled flows", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cloud.Handle("palm.req.kiosk-1.teleport", b); err == nil || !strings.Contains(err.Error(), "not one of enrol, identify, delete, pay, void, loyalty, age") {
		t.Fatalf("Handle of flow teleport: %v, want a refusal naming the valid flows", err)
	}
}

func TestHandleRefusesSpoofedSubject(t *testing.T) {
	f := newFixture(t)
	r := f.request(t, "req-1", wire.FlowIdentify, parts{})
	b, _ := wire.EncodeRequest(r)
	for _, subject := range []string{wire.RequestSubject("kiosk-2", wire.FlowIdentify), wire.RequestSubject("kiosk-1", wire.FlowDelete)} {
		if reply, err := f.cloud.Handle(subject, b); err == nil || reply != nil {
			t.Errorf("request from kiosk-1/identify answered on %s", subject)
		}
	}
	if _, err := f.cloud.Handle(wire.RequestSubject("kiosk-1", wire.FlowIdentify), []byte("{}")); err == nil {
		t.Error("malformed request answered")
	}
}

func TestCommand(t *testing.T) {
	f := newFixture(t)
	b, err := f.cloud.Command("kiosk-1", wire.Command{Type: wire.CmdDeleteMyData, Subject: "sub-1"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := wire.Verify(f.signPub, b)
	if err != nil || st.Kind != wire.KindCommand || st.Command.Subject != "sub-1" || st.Device != "kiosk-1" {
		t.Fatalf("command statement %+v, %v", st, err)
	}
	if _, err := f.cloud.Command("kiosk-1", wire.Command{Type: wire.CmdUpdate}); err == nil {
		t.Error("invalid command signed")
	}
}
