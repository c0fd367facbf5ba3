package uplink_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/wire"
)

// signedBundle returns a firmware bundle of version v around an image of
// n random bytes.
func signedBundle(t *testing.T, key ed25519.PrivateKey, v uint64, n int) []byte {
	t.Helper()
	img := make([]byte, n)
	rand.Read(img)
	var b bytes.Buffer
	if _, err := secureboot.SignBundle(&b, key, secureboot.Manifest{Product: "palmkiosk", Version: v, Release: "1.0." + string(rune('0'+v%10)),
		Created: time.Unix(1_700_000_000, 0)}, bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBundleFromObjectStore publishes a bundle as the cloud does and reads
// it back over the kiosk's own credentials (its permissions cover the
// cloud's bundle service), 512 KiB a request; bytes other than those the
// command names are refused.
func TestBundleFromObjectStore(t *testing.T) { devtest.Bubble(t, testBundleFromObjectStore) }

func testBundleFromObjectStore(t *testing.T) {
	r := newRig(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	policy := secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}
	bundle := signedBundle(t, priv, 7, 1100<<10) // 9 object chunks of 128 KiB
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := cloud.PublishBundle(ctx, r.cloud, cloud.StoreOptions{Memory: true}, policy, "palmkiosk-7.bundle", bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	if u.Version != 7 || u.Size != int64(len(bundle)) || u.Object != "palmkiosk-7.bundle" {
		t.Fatalf("published %+v", u)
	}
	if _, err := cloud.ServeBundles(r.cloud, nil); err != nil {
		t.Fatal(err)
	}
	c := r.dial(t)
	read := func(u wire.Update) ([]byte, error) {
		rc, err := c.Bundle(ctx, u)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	// The kiosk asks the cloud for up to 4 chunks (512 KiB) a request.
	batches, err := r.cloud.SubscribeSync(wire.BundleSubject(device))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cloud.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := read(u)
	if err != nil || !bytes.Equal(got, bundle) {
		t.Fatalf("read %d bytes, %v; want the %d published", len(got), err, len(bundle))
	}
	synctest.Wait()
	if n, _, _ := batches.Pending(); n != 3 {
		t.Errorf("9 chunks read in %d requests, want 3 (4 a request)", n)
	}
	if err := batches.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		change func(*wire.Update)
		want   error
	}{
		{"other digest", func(u *wire.Update) {
			// Another first digit: "00" in its place left 1 digest in 256
			// (those starting with it) unchanged.
			first := "0"
			if u.SHA256[0] == '0' {
				first = "1"
			}
			u.SHA256 = first + u.SHA256[1:]
		}, uplink.ErrBundleMismatch},
		{"shorter", func(u *wire.Update) { u.Size-- }, uplink.ErrBundleMismatch},
		{"longer", func(u *wire.Update) { u.Size++ }, uplink.ErrBundleMismatch},
	} {
		v := u // no t.Run: a bubble cannot hold subtests
		tt.change(&v)
		if _, err := read(v); !errors.Is(err, tt.want) {
			t.Errorf("%s: read: %v, want %v", tt.name, err, tt.want)
		}
	}

	// The cloud refuses to publish what does not verify, and keeps nothing.
	_, otherKey, _ := ed25519.GenerateKey(nil)
	tampered := bytes.Clone(bundle)
	tampered[len(tampered)-1] ^= 1
	for name, b := range map[string][]byte{"tampered": tampered, "unknown-key": signedBundle(t, otherKey, 8, 1000)} {
		if _, err := cloud.PublishBundle(ctx, r.cloud, cloud.StoreOptions{Memory: true}, policy, name, bytes.NewReader(b)); err == nil {
			t.Errorf("%s bundle published", name)
		}
		if _, err := read(wire.Update{Object: name, Version: 8, Size: 1000, SHA256: u.SHA256}); err == nil {
			t.Errorf("%s bundle readable after a refused publish", name)
		}
	}
}

// TestBundleWaitsForTheCloud: a bundle request that finds no cloud
// instance listening, or the cloud's bucket unavailable, is sent again
// after a pause that doubles (1 s, then 2 s), and the bundle arrives whole
// once the cloud serves it; a failure that does not pass (no such bundle)
// is not retried.
func TestBundleWaitsForTheCloud(t *testing.T) { devtest.Bubble(t, testBundleWaitsForTheCloud) }

func testBundleWaitsForTheCloud(t *testing.T) {
	r := newRig(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	policy := secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}
	bundle := signedBundle(t, priv, 7, 700<<10)
	ctx := t.Context()
	u, err := cloud.PublishBundle(ctx, r.cloud, cloud.StoreOptions{Memory: true}, policy, "palmkiosk-7.bundle", bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	c := r.dial(t)
	type result struct {
		b   []byte
		err error
		at  time.Duration
	}
	read := func(u wire.Update) result {
		start := time.Now()
		rc, err := c.Bundle(ctx, u)
		if err != nil {
			return result{err: err, at: time.Since(start)}
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return result{b, err, time.Since(start)}
	}
	done := make(chan result, 1)
	go func() { done <- read(u) }()
	synctest.Wait() // no instance listens: the kiosk pauses 1 s

	var refusals atomic.Int32
	unavailable, err := r.cloud.Subscribe(wire.AllBundles, func(m *nats.Msg) {
		refusals.Add(1)
		reply := nats.NewMsg(m.Reply)
		reply.Header.Set(wire.BundleErrorHeader, wire.BundleUnavailable)
		m.RespondMsg(reply)
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the bubble's: asked again at 1 s, refused, pausing until 3 s
	select {
	case res := <-done:
		t.Fatalf("the read ended while the cloud could not serve it: %d bytes, %v", len(res.b), res.err)
	default:
	}
	if n := refusals.Load(); n != 1 {
		t.Errorf("the cloud refused %d requests, want 1", n)
	}
	if err := unavailable.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.ServeBundles(r.cloud, nil); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil || !bytes.Equal(res.b, bundle) {
		t.Fatalf("read %d bytes, %v; want the %d published", len(res.b), res.err, len(bundle))
	}
	if res.at != 3*time.Second {
		t.Errorf("the bundle came after %v, want 3s (pauses of 1 s and 2 s)", res.at)
	}

	missing := u
	missing.Object = "palmkiosk-8.bundle"
	if res := read(missing); !errors.Is(res.err, uplink.ErrBundleFetch) || !strings.Contains(res.err.Error(), "no such bundle") || res.at != 0 {
		t.Errorf("a bundle the cloud does not have: %v after %v, want \"no such bundle\" at once", res.err, res.at)
	}
}

// TestBundleWithoutABucket: a cloud that has no bundle bucket says so, and
// the kiosk does not wait for one to appear.
func TestBundleWithoutABucket(t *testing.T) { devtest.Bubble(t, testBundleWithoutABucket) }

func testBundleWithoutABucket(t *testing.T) {
	r := newRig(t)
	if _, err := cloud.ServeBundles(r.cloud, nil); err != nil {
		t.Fatal(err)
	}
	c := r.dial(t)
	start := time.Now()
	_, err := c.Bundle(t.Context(), wire.Update{Object: "palmkiosk-7.bundle", Version: 7, Size: 1000, SHA256: strings.Repeat("ab", 32)})
	if !errors.Is(err, uplink.ErrBundleFetch) || !strings.Contains(err.Error(), "no bundle bucket") || time.Since(start) != 0 {
		t.Errorf("no bucket: %v after %v, want \"no bundle bucket\" at once", err, time.Since(start))
	}
}

// TestKioskHasNoJetStream: JetStream answers on whatever reply subject a
// request names, so a kiosk allowed to read the bundle bucket itself could
// have its chunks delivered on another kiosk's command subject: up to the
// server's max pending (64 MiB) a batched direct get, or without end
// through a push consumer. The same requests sent by the cloud do deliver
// chunks to kiosk-2 (they are well formed); the kiosk's are permissions
// violations, and kiosk-2 gets nothing. The cloud's bundle service, which
// kiosks read bundles through instead, answers only on the asking kiosk's
// inbox.
func TestKioskHasNoJetStream(t *testing.T) { devtest.Bubble(t, testKioskHasNoJetStream) }

func testKioskHasNoJetStream(t *testing.T) {
	r := newRig(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	policy := secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cloud.PublishBundle(ctx, r.cloud, cloud.StoreOptions{Memory: true}, policy, "palmkiosk-7.bundle",
		bytes.NewReader(signedBundle(t, priv, 7, 1000))); err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.ServeBundles(r.cloud, nil); err != nil {
		t.Fatal(err)
	}
	victim := wire.CommandSubject("kiosk-2", "queued")
	consumer, err := json.Marshal(map[string]any{"stream_name": wire.BundleStream, "config": map[string]any{
		"name": "push", "deliver_subject": victim, "deliver_policy": "all", "ack_policy": "none"}})
	if err != nil {
		t.Fatal(err)
	}
	asks := []struct{ subject, body string }{
		{"$JS.API.DIRECT.GET." + wire.BundleStream, `{"seq":1,"next_by_subj":"$O.palm_bundles.C.>","batch":8}`},
		{"$JS.API.CONSUMER.CREATE." + wire.BundleStream + ".push", string(consumer)},
	}
	k2, err := r.auth.Device("kiosk-2")
	if err != nil {
		t.Fatal(err)
	}
	nc2, err := r.connect(nats.UserJWTAndSeed(k2.JWT, k2.Seed), nats.Secure(k2.TLS))
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	delivered, err := nc2.SubscribeSync(wire.CommandSubject("kiosk-2", ">"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc2.Flush(); err != nil {
		t.Fatal(err)
	}
	// counted is how many messages kiosk-2 got since the last call.
	counted := func() int {
		t.Helper()
		synctest.Wait()
		n := 0
		for _, err := delivered.NextMsg(0); err == nil; _, err = delivered.NextMsg(0) {
			n++
		}
		return n
	}

	// The cloud's requests reach kiosk-2.
	for _, a := range asks {
		if err := r.cloud.PublishRequest(a.subject, victim, []byte(a.body)); err != nil {
			t.Fatal(err)
		}
		if err := r.cloud.Flush(); err != nil {
			t.Fatal(err)
		}
		if n := counted(); n == 0 {
			t.Fatalf("the cloud's request on %s delivered nothing to kiosk-2: the test shows nothing", a.subject)
		}
	}
	if _, err := r.cloud.Request("$JS.API.CONSUMER.DELETE."+wire.BundleStream+".push", nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	creds, err := r.auth.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	violations := make(chan string, 4)
	nc, err := r.connect(nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				violations <- strings.ToLower(err.Error())
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, a := range asks {
		if err := nc.PublishRequest(a.subject, victim, []byte(a.body)); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-violations:
			if !strings.Contains(v, "publish to \""+strings.ToLower(a.subject)+"\"") {
				t.Fatalf("violation %q, want one for publishing to %s", v, a.subject)
			}
		case <-time.After(time.Minute):
			t.Fatalf("publishing to %s: no permissions violation within a minute", a.subject)
		}
		if n := counted(); n != 0 {
			t.Fatalf("the kiosk's request on %s delivered %d messages to kiosk-2", a.subject, n)
		}
	}
	// Its bundle request naming kiosk-2's subject as the reply is allowed
	// to leave, and the cloud does not answer it there.
	if err := nc.PublishRequest(wire.BundleSubject(device), victim, []byte(`{"object":"palmkiosk-7.bundle"}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := counted(); n != 0 {
		t.Fatalf("the cloud answered a bundle request on kiosk-2's subject (%d messages)", n)
	}
	select {
	case v := <-violations:
		t.Fatalf("the bundle request was refused: %s", v)
	default:
	}
}
