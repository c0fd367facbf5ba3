package cloud_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"image"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// region is the palm region of a made-up person: noise, which the matcher
// tells apart as well as palms.
func region(person uint64) *image.Gray {
	r := rand.New(rand.NewPCG(person, 7))
	img := image.NewGray(image.Rect(0, 0, match.Size, match.Size))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// deployment is a JetStream server with file storage, the keys of one
// cloud, and a kiosk.
type deployment struct {
	auth                *dev.Authority
	srv                 *server.Server
	seal, pay           *seal.Opener
	palmSealer, paySeal *seal.Sealer
	sign                ed25519.PrivateKey
	kiosk               *uplink.Client
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dev.RunServer(auth, server.RANDOM_PORT, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	d := &deployment{auth: auth, srv: srv}
	sp, sk, _ := seal.GenerateKey()
	pp, pk, _ := seal.GenerateKey()
	d.seal, _ = seal.NewOpener(sk)
	d.pay, _ = seal.NewOpener(pk)
	d.palmSealer, _ = seal.NewSealer(sp)
	d.paySeal, _ = seal.NewSealer(pp)
	var signPub ed25519.PublicKey
	signPub, d.sign, _ = ed25519.GenerateKey(nil)
	creds, err := auth.Device("kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.kiosk, err = uplink.Dial(srv.ClientURL(), "kiosk-1", signPub, creds.Options()...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.kiosk.Close() })
	return d
}

// instance starts one cloud instance on its own connection; stop ends it
// as palmcloud does (drain, wait, close).
func (d *deployment) instance(t *testing.T) (c *cloud.Cloud, stop func()) {
	t.Helper()
	return d.instanceWith(t, cloud.Config{})
}

// instanceWith is instance with cfg's limits (its keys are the
// deployment's).
func (d *deployment) instanceWith(t *testing.T, cfg cloud.Config) (c *cloud.Cloud, stop func()) {
	t.Helper()
	c, nc := d.open(t, cfg)
	sub, err := c.Subscribe(nc)
	if err != nil {
		t.Fatal(err)
	}
	return c, func() {
		sub.Unsubscribe()
		c.Wait()
		c.Close()
		nc.Close()
	}
}

// follower opens a cloud instance that follows the store but subscribes
// to no requests; it ends with the test.
func (d *deployment) follower(t *testing.T, cfg cloud.Config) *cloud.Cloud {
	t.Helper()
	c, nc := d.open(t, cfg)
	t.Cleanup(func() { c.Close(); nc.Close() })
	return c
}

// open makes a cloud instance with cfg and the deployment's keys, and
// opens its store on a connection of its own.
func (d *deployment) open(t *testing.T, cfg cloud.Config) (*cloud.Cloud, *nats.Conn) {
	t.Helper()
	cfg.Seal, cfg.Payment, cfg.SignKey = d.seal, d.pay, d.sign
	c, err := cloud.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := d.auth.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(d.srv.ClientURL(), nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Open(ctx, nc, cloud.StoreOptions{}); err != nil {
		nc.Close()
		t.Fatal(err)
	}
	return c, nc
}

func (d *deployment) do(t *testing.T, id string, f wire.Flow, person uint64) wire.Decision {
	t.Helper()
	return d.doWith(t, wire.Request{ID: id, Flow: f}, person, "+15550100")
}

// doWith sends r (its device, time and sealed parts filled in) with
// person's palm; an enrolment or deletion carries phone.
func (d *deployment) doWith(t *testing.T, r wire.Request, person uint64, phone string) wire.Decision {
	t.Helper()
	dec, err := d.send(r, person, phone)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Flow, r.ID, err)
	}
	return dec
}

// send is doWith for any goroutine: it returns the error.
func (d *deployment) send(r wire.Request, person uint64, phone string) (wire.Decision, error) {
	r.Device, r.Time = "kiosk-1", time.Now()
	f := r.Flow
	var err error
	if f != wire.FlowVoid {
		if r.Palm, err = d.palmSealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, region(person))); err != nil {
			return wire.Decision{}, err
		}
	}
	if f == wire.FlowEnrol || f == wire.FlowDelete { // a deletion's second factor: the phone number
		r.Phone, _ = d.palmSealer.Seal(seal.ContextOf(r, seal.PartPhone), []byte(phone))
	}
	if f == wire.FlowEnrol {
		r.Card, _ = d.paySeal.Seal(seal.ContextOf(r, seal.PartCard), []byte("4111111111111111"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dec, err := d.kiosk.Do(ctx, r)
	for err == uplink.ErrNotConnected && ctx.Err() == nil { // the kiosk may still be connecting
		time.Sleep(10 * time.Millisecond)
		dec, err = d.kiosk.Do(ctx, r)
	}
	return dec, err
}

// TestRestartKeepsEnrolments: enrolments live in the JetStream bucket,
// sealed; a new cloud instance with the same keys knows everyone.
func TestRestartKeepsEnrolments(t *testing.T) {
	d := newDeployment(t)
	_, stop := d.instance(t)
	subjects := map[uint64]string{}
	for p := range uint64(3) {
		dec := d.do(t, fmt.Sprint("enrol-", p), wire.FlowEnrol, p)
		if dec.Outcome != wire.Approved {
			t.Fatalf("enrol %d: %+v", p, dec)
		}
		subjects[p] = dec.Subject
	}
	if dec := d.do(t, "delete-2", wire.FlowDelete, 2); dec.Outcome != wire.Approved {
		t.Fatalf("delete: %+v", dec)
	}
	delete(subjects, 2)
	stop()

	c, stop := d.instance(t)
	defer stop()
	if n := c.Enrolled(); n != len(subjects) {
		t.Fatalf("restarted cloud has %d enrolments, want %d", n, len(subjects))
	}
	for p, subject := range subjects {
		if dec := d.do(t, fmt.Sprint("identify-", p), wire.FlowIdentify, p); dec.Outcome != wire.Approved || dec.Subject != subject {
			t.Errorf("person %d after restart: %+v, want subject %s", p, dec, subject)
		}
	}
	if dec := d.do(t, "identify-2", wire.FlowIdentify, 2); dec.Outcome != wire.NotRecognized {
		t.Errorf("deleted person after restart: %+v", dec)
	}

	// At rest the bucket holds no template in clear.
	creds, _ := d.auth.Cloud()
	nc, err := nats.Connect(d.srv.ClientURL(), nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, cloud.EnrolBucket)
	if err != nil {
		t.Fatal(err)
	}
	for p, subject := range subjects {
		e, err := kv.Get(ctx, subject)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, _ := match.NewTemplate(region(p))
		clearTmpl, _ := tmpl.MarshalBinary()
		if bytes.Contains(e.Value(), clearTmpl[5:69]) {
			t.Errorf("enrolment %s holds its template in clear", subject)
		}
	}
}

// TestRestartKeepsPaymentsAndFailures: payments (by device and message id),
// each enrolment's failure count and the enrolments begun in the phone app
// live in JetStream buckets, so a cloud restart neither charges a repeated
// message id again, nor charges one voided before it, nor forgets failures
// that disabled a biometric, nor loses an app enrolment waiting for its
// first capture.
func TestRestartKeepsPaymentsAndFailures(t *testing.T) {
	d := newDeployment(t)
	cfg := cloud.Config{MaxFailures: 2}
	first, stop := d.instanceWith(t, cfg)
	const payer, victim, appUser = 1, 2, 3
	if _, err := first.AddPending(region(appUser), []byte("5550100400"), []byte("4539578763621486")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []uint64{payer, victim} {
		if dec := d.do(t, fmt.Sprint("enrol-", p), wire.FlowEnrol, p); dec.Outcome != wire.Approved {
			t.Fatalf("enrol %d: %+v", p, dec)
		}
	}
	pay := func(id, ref string) wire.Decision {
		return d.doWith(t, wire.Request{ID: id, Flow: wire.FlowPay,
			Payment: &wire.Payment{Ref: ref, Amount: 1250, Currency: "EUR", Merchant: "Corner Shop"}}, payer, "")
	}
	charged := pay("pay-1", "m1")
	if charged.Outcome != wire.Approved || charged.Reference == "" {
		t.Fatalf("payment: %+v", charged)
	}
	if dec := d.doWith(t, wire.Request{ID: "void-2", Flow: wire.FlowVoid, Payment: &wire.Payment{Ref: "m2"}}, 0, ""); dec.Reason != "nothing_charged" {
		t.Fatalf("void of an id never charged: %+v", dec)
	}
	for i := range cfg.MaxFailures { // the victim's palm with a wrong phone number
		if dec := d.doWith(t, wire.Request{ID: fmt.Sprint("delete-", i), Flow: wire.FlowDelete}, victim, "+15559999"); dec.Outcome != wire.NotRecognized {
			t.Fatalf("deletion with a wrong factor: %+v", dec)
		}
	}
	stop()

	c, stop := d.instanceWith(t, cfg)
	defer stop()
	if n := c.Pending(); n != 1 {
		t.Errorf("%d pending app enrolments after the restart, want 1", n)
	}
	tests := []struct {
		name    string
		dec     wire.Decision
		outcome wire.Outcome
		reason  string
	}{
		{"the same message id again", pay("pay-1-again", "m1"), wire.Approved, "repeated"},
		{"a message id voided before", pay("pay-2", "m2"), wire.Declined, "ref_used"},
		{"the disabled enrolment", d.do(t, "identify-victim", wire.FlowIdentify, victim), wire.Declined, "biometric_disabled"},
		{"the app enrolment's first capture", d.do(t, "identify-app", wire.FlowIdentify, appUser), wire.Approved, "app_enrolment_completed"},
		{"its next capture", d.do(t, "identify-app-2", wire.FlowIdentify, appUser), wire.Approved, ""},
	}
	for _, tt := range tests {
		if tt.dec.Outcome != tt.outcome || tt.dec.Reason != tt.reason {
			t.Errorf("%s after the restart: %s %q, want %s %q", tt.name, tt.dec.Outcome, tt.dec.Reason, tt.outcome, tt.reason)
		}
	}
	if got := tests[0].dec.Reference; got != charged.Reference {
		t.Errorf("repeated payment's reference %q, want the first one's %q", got, charged.Reference)
	}
	if ps := c.Payments(); len(ps) != 1 || ps[0].Reference != charged.Reference || ps[0].Voided {
		t.Errorf("payments after the restart: %+v, want the one charge %s", ps, charged.Reference)
	}
	if n := c.Pending(); n != 0 {
		t.Errorf("%d pending app enrolments once completed, want 0", n)
	}
}

// TestFailuresFollowed: an instance that is already running learns the
// failure counts another one writes (it follows the bucket), without
// asking the store per request.
func TestFailuresFollowed(t *testing.T) {
	d := newDeployment(t)
	cfg := cloud.Config{MaxFailures: 2}
	a, stopA := d.instanceWith(t, cfg)
	const victim = 2
	dec := d.do(t, "enrol", wire.FlowEnrol, victim)
	if dec.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", dec)
	}
	// b follows the buckets but serves nothing: every failure is a's.
	b := d.follower(t, cfg)
	for i := range cfg.MaxFailures {
		if dec := d.doWith(t, wire.Request{ID: fmt.Sprint("delete-", i), Flow: wire.FlowDelete}, victim, "+15559999"); dec.Outcome != wire.NotRecognized {
			t.Fatalf("deletion with a wrong factor: %+v", dec)
		}
	}
	if !a.Disabled(dec.Subject) {
		t.Fatal("the instance that counted the failures does not hold the enrolment disabled")
	}
	for deadline := time.Now().Add(10 * time.Second); !b.Disabled(dec.Subject); {
		if time.Now().After(deadline) {
			t.Fatal("the following instance never learnt the enrolment was disabled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopA()
}

// TestConcurrentPaymentsChargeOnce: the same point-of-sale message id
// sent at once under several request ids, to two instances, is charged
// once (every answer carries the one reference), while payments of other
// ids go through beside it.
func TestConcurrentPaymentsChargeOnce(t *testing.T) {
	d := newDeployment(t)
	cfg := cloud.Config{KioskBurst: 100}
	a, stopA := d.instanceWith(t, cfg)
	defer stopA()
	_, stopB := d.instanceWith(t, cfg)
	defer stopB()
	const payer = 1
	if dec := d.do(t, "enrol", wire.FlowEnrol, payer); dec.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", dec)
	}
	const same, others = 8, 4
	type answer struct {
		ref string
		dec wire.Decision
		err error
	}
	answers := make(chan answer, same+others)
	var wg sync.WaitGroup
	for i := range same + others {
		ref := "m-same"
		if i >= same {
			ref = fmt.Sprint("m-other-", i)
		}
		wg.Go(func() {
			dec, err := d.send(wire.Request{ID: fmt.Sprint("pay-", i), Flow: wire.FlowPay,
				Payment: &wire.Payment{Ref: ref, Amount: 500, Currency: "EUR", Merchant: "Corner Shop"}}, payer, "")
			answers <- answer{ref, dec, err}
		})
	}
	wg.Wait()
	close(answers)
	refs := map[string]map[string]bool{} // message id → references answered
	for a := range answers {
		if a.err != nil || a.dec.Outcome != wire.Approved || a.dec.Reference == "" {
			t.Fatalf("payment %s: %+v %v, want approved", a.ref, a.dec, a.err)
		}
		if refs[a.ref] == nil {
			refs[a.ref] = map[string]bool{}
		}
		refs[a.ref][a.dec.Reference] = true
	}
	if n := len(refs["m-same"]); n != 1 {
		t.Errorf("one message id sent %d times got %d references, want 1", same, n)
	}
	if ps := a.Payments(); len(ps) != 1+others {
		t.Errorf("%d payments stored, want %d (one for the repeated id, one for each other)", len(ps), 1+others)
	}
}

// TestQueueGroup: two instances share the requests, and each knows the
// enrolments the other made.
func TestQueueGroup(t *testing.T) {
	d := newDeployment(t)
	a, stopA := d.instance(t)
	defer stopA()
	b, stopB := d.instance(t)
	defer stopB()
	const people = 12
	subjects := map[uint64]string{}
	for p := range uint64(people) {
		dec := d.do(t, fmt.Sprint("enrol-", p), wire.FlowEnrol, p)
		if dec.Outcome != wire.Approved {
			t.Fatalf("enrol %d: %+v", p, dec)
		}
		subjects[p] = dec.Subject
	}
	for deadline := time.Now().Add(10 * time.Second); a.Enrolled() != people || b.Enrolled() != people; {
		if time.Now().After(deadline) {
			t.Fatalf("instances hold %d and %d enrolments, want %d each", a.Enrolled(), b.Enrolled(), people)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for p, subject := range subjects {
		if dec := d.do(t, fmt.Sprint("identify-", p), wire.FlowIdentify, p); dec.Subject != subject {
			t.Errorf("person %d: %+v, want %s", p, dec, subject)
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.Answered+sb.Answered != 2*people || sa.Answered == 0 || sb.Answered == 0 {
		t.Errorf("answered %d and %d of %d requests, want both to take a share", sa.Answered, sb.Answered, 2*people)
	}
}

// TestBirthDateSharedAndKept: a birth date set on one instance is in the
// enrolment's sealed record, so another instance answers the age check by
// it, and so does an instance started after both stopped; deleting the
// enrolment deletes it.
func TestBirthDateSharedAndKept(t *testing.T) {
	d := newDeployment(t)
	a, stopA := d.instance(t)
	b, stopB := d.instance(t)
	dec := d.do(t, "enrol", wire.FlowEnrol, 7)
	if dec.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", dec)
	}
	subject := dec.Subject
	// Both instances know the enrolment before the date is set on one.
	eventually(t, "both instances know the enrolment", func() bool { return a.Enrolled() == 1 && b.Enrolled() == 1 })
	if err := a.SetBirthDate(subject, time.Now().AddDate(-30, 0, 0)); err != nil {
		t.Fatal(err)
	}
	age := func(id string, over int) wire.Decision {
		return d.doWith(t, wire.Request{ID: id, Flow: wire.FlowAge, Over: over}, 7, "")
	}
	stopA() // b alone answers now, by what it read from the bucket
	asked := 0
	eventually(t, "the other instance learns the birth date", func() bool {
		asked++
		return age(fmt.Sprint("b-", asked), 21).Reason == "over"
	})
	if dec := age("b-over-65", 65); dec.Outcome != wire.Declined || dec.Reason != "not_over" {
		t.Errorf("over 65 at 30: %+v", dec)
	}
	stopB()

	_, stop := d.instance(t)
	if dec := age("restarted", 21); dec.Outcome != wire.Approved || dec.Reason != "over" {
		t.Errorf("after a restart: %+v, want approved over", dec)
	}
	if dec := d.do(t, "delete", wire.FlowDelete, 7); dec.Outcome != wire.Approved {
		t.Fatalf("delete: %+v", dec)
	}
	stop()
	c, stop := d.instance(t)
	defer stop()
	if n := c.Enrolled(); n != 0 {
		t.Fatalf("%d enrolments after the deletion", n)
	}
	if err := c.SetBirthDate(subject, time.Now().AddDate(-30, 0, 0)); err == nil {
		t.Error("a birth date was taken for a deleted enrolment")
	}
}

// eventually polls cond until it holds, for what another instance or the
// server does on its own; it gives up after a minute, a bound no loaded
// machine comes near.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a minute: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
