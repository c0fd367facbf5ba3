package uplink_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
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
func TestBundleFromObjectStore(t *testing.T) {
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
		t.Run(tt.name, func(t *testing.T) {
			v := u
			tt.change(&v)
			if _, err := read(v); !errors.Is(err, tt.want) {
				t.Fatalf("read: %v, want %v", err, tt.want)
			}
		})
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
