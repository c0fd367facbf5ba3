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
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
// bundle bucket); bytes other than those the command names are refused.
func TestBundleFromObjectStore(t *testing.T) { devtest.Bubble(t, testBundleFromObjectStore) }

func testBundleFromObjectStore(t *testing.T) {
	r := newRig(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	policy := secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}
	bundle := signedBundle(t, priv, 7, 300<<10) // several object chunks
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := cloud.PublishBundle(ctx, r.cloud, cloud.StoreOptions{Memory: true}, policy, "palmkiosk-7.bundle", bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	if u.Version != 7 || u.Size != int64(len(bundle)) || u.Object != "palmkiosk-7.bundle" {
		t.Fatalf("published %+v", u)
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
	got, err := read(u)
	if err != nil || !bytes.Equal(got, bundle) {
		t.Fatalf("read %d bytes, %v; want the %d published", len(got), err, len(bundle))
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

// TestKioskCannotCreateBundleConsumers: a kiosk reads bundles with direct
// gets and may not create a consumer on the bundle stream. A consumer's
// deliver subject is its creator's to choose and the server publishes
// there past the creator's publish permissions, so a kiosk that could
// create one could have the bucket's chunks delivered on another kiosk's
// command subject. The same request from the cloud does create one (the
// request is well formed); the kiosk's is refused as a permissions
// violation and leaves the stream without a consumer.
func TestKioskCannotCreateBundleConsumers(t *testing.T) {
	devtest.Bubble(t, testKioskCannotCreateBundleConsumers)
}

func testKioskCannotCreateBundleConsumers(t *testing.T) {
	r := newRig(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	policy := secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cloud.PublishBundle(ctx, r.cloud, cloud.StoreOptions{Memory: true}, policy, "palmkiosk-7.bundle",
		bytes.NewReader(signedBundle(t, priv, 7, 1000))); err != nil {
		t.Fatal(err)
	}
	push := func(name string) (subject string, body []byte) {
		b, err := json.Marshal(map[string]any{"stream_name": wire.BundleStream, "config": map[string]any{
			"name": name, "deliver_subject": wire.CommandSubject("kiosk-2", "queued"), "deliver_policy": "all", "ack_policy": "none"}})
		if err != nil {
			t.Fatal(err)
		}
		return "$JS.API.CONSUMER.CREATE." + wire.BundleStream + "." + name, b
	}
	consumers := func() int {
		js, err := jetstream.New(r.cloud)
		if err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(ctx, wire.BundleStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Consumers
	}

	// The cloud may: the request is one the server acts on.
	subj, body := push("by-cloud")
	if _, err := r.cloud.Request(subj, body, 10*time.Second); err != nil {
		t.Fatalf("the cloud's consumer: %v", err)
	}
	if n := consumers(); n != 1 {
		t.Fatalf("after the cloud's request the stream has %d consumers, want 1", n)
	}
	if err := r.cloud.Publish("$JS.API.CONSUMER.DELETE."+wire.BundleStream+".by-cloud", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.cloud.Flush(); err != nil {
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
	replies := make(chan *nats.Msg, 4)
	inbox := wire.InboxPrefix(device) + ".consumer-test" // the kiosk may subscribe under its inbox prefix only
	if _, err := nc.ChanSubscribe(inbox, replies); err != nil {
		t.Fatal(err)
	}
	subj, body = push("by-kiosk")
	for _, s := range []string{subj, "$JS.API.CONSUMER.CREATE." + wire.BundleStream} {
		if err := nc.PublishRequest(s, inbox, body); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-violations:
			if !strings.Contains(v, "publish to \""+strings.ToLower(s)+"\"") {
				t.Fatalf("violation %q, want one for publishing to %s", v, s)
			}
		case m := <-replies:
			t.Fatalf("publishing to %s: the server answered %s", s, m.Data)
		case <-time.After(time.Minute):
			t.Fatalf("publishing to %s: no permissions violation within a minute", s)
		}
	}
	if n := consumers(); n != 0 {
		t.Fatalf("after the kiosk's requests the stream has %d consumers, want 0", n)
	}
}
