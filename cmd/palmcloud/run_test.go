package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "usage"},
		{[]string{"fly"}, `unknown command "fly"`},
		{[]string{"serve"}, "-url is required"},
		{[]string{"serve", "-url", "nats://127.0.0.1:1", "-keys", "/nonexistent"}, "no such file"},
		{[]string{"keygen", "-bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tt.want) {
			t.Errorf("run(%q) = %v (stderr %q), want %q", tt.args, err, stderr.String(), tt.want)
		}
	}
}

// keygen runs "palmcloud keygen" into dir and returns the printed keys.
func keygenKeys(t *testing.T, dir string) kioskKeys {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"keygen", "-dir", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("keygen: %v\n%s", err, stderr.String())
	}
	var k kioskKeys
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	k := keygenKeys(t, dir)
	for _, name := range []string{sealKeyFile, paymentKeyFile, signKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	sealPriv, err := readKey(filepath.Join(dir, sealKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	o, err := seal.NewOpener(sealPriv)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(o.PublicKey()); got != k.SealKey {
		t.Error("printed seal_key does not match seal.key")
	}
	seed, err := readKey(filepath.Join(dir, signKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if got := base64.StdEncoding.EncodeToString(pub); got != k.SignKey {
		t.Error("printed sign_key does not match sign.key")
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"keygen", "-dir", dir}, &stdout, &stderr); err == nil {
		t.Error("keygen overwrote existing keys")
	}
}

// TestServe runs "palmcloud serve" against an in-process NATS server with
// file credentials and mutual TLS, and has a kiosk enrol and identify.
func TestServe(t *testing.T) {
	dir, keys, auth, srv := testRegion(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-url", srv.ClientURL(), "-creds", filepath.Join(dir, "cloud.creds"),
			"-ca", filepath.Join(dir, "ca.pem"), "-cert", filepath.Join(dir, "cert.pem"), "-key", filepath.Join(dir, "key.pem"),
			"-keys", dir}, &bytes.Buffer{}, &stderr)
	}()

	const device = "kiosk-7"
	creds, err := auth.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	signKey, _ := base64.StdEncoding.DecodeString(keys.SignKey)
	c, err := uplink.Dial(srv.ClientURL(), device, signKey, creds.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sealKey, _ := base64.StdEncoding.DecodeString(keys.SealKey)
	payKey, _ := base64.StdEncoding.DecodeString(keys.PaymentKey)
	palmSealer, err := seal.NewSealer(sealKey)
	if err != nil {
		t.Fatal(err)
	}
	cardSealer, err := seal.NewSealer(payKey)
	if err != nil {
		t.Fatal(err)
	}
	roi := image.NewGray(image.Rect(0, 0, 128, 128))
	for i := range roi.Pix {
		roi.Pix[i] = uint8(i*31 + i/128*17)
	}
	do := func(id string, f wire.Flow) wire.Decision {
		t.Helper()
		r := wire.Request{ID: id, Device: device, Flow: f, Time: time.Now()}
		r.Palm, _ = palmSealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, roi))
		r.Phone, _ = palmSealer.Seal(seal.ContextOf(r, seal.PartPhone), []byte("+15550100"))
		r.Card, _ = cardSealer.Seal(seal.ContextOf(r, seal.PartCard), []byte("4111111111111111"))
		for {
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
			d, err := c.Do(rctx, r)
			rcancel()
			// The cloud may still be starting: retry only "no responders" and "not yet connected".
			if errors.Is(err, uplink.ErrNoCloud) || errors.Is(err, uplink.ErrNotConnected) {
				select {
				case serr := <-done:
					t.Fatalf("serve returned %v before answering\n%s", serr, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v\n%s", f, err, stderr.String())
			}
			return d
		}
	}
	enrolled := do("r1", wire.FlowEnrol)
	if enrolled.Outcome != wire.Approved || enrolled.Subject == "" {
		t.Fatalf("enrol: %+v", enrolled)
	}
	if d := do("r2", wire.FlowIdentify); d.Outcome != wire.Approved || d.Subject != enrolled.Subject {
		t.Fatalf("identify: %+v, want subject %s", d, enrolled.Subject)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "palmcloud: serving") || !strings.Contains(logs, "enrolled=1") {
		t.Errorf("logs:\n%s", logs)
	}
	if strings.Contains(logs, "4111") || strings.Contains(logs, "5550100") {
		t.Errorf("card or phone number in the logs:\n%s", logs)
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args    []string
		help    bool
		wantOut string
	}{
		{[]string{"-h"}, true, "palmcloud serve -url"},
		{[]string{"--help"}, true, "palmcloud keygen"},
		{[]string{"serve", "-h"}, true, ""},
		{[]string{"-h"}, true, "palmcloud callout -url"},
		{[]string{"-version"}, false, "palmcloud dev"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, &stderr)
		if tt.help != errors.Is(err, errHelp) || (!tt.help && err != nil) {
			t.Errorf("run(%q) = %v", tt.args, err)
		}
		if !strings.Contains(stdout.String(), tt.wantOut) {
			t.Errorf("run(%q) printed %q, want %q", tt.args, stdout.String(), tt.wantOut)
		}
	}
}

// testRegion starts an in-process NATS server with JetStream, trusting a
// new authority, and writes into a new directory the cloud's keys
// (palmcloud keygen) and its credentials (cloud.creds, ca.pem, cert.pem,
// key.pem). The server stops when the test ends.
func testRegion(t *testing.T) (dir string, keys kioskKeys, auth *dev.Authority, srv *server.Server) {
	t.Helper()
	dir = t.TempDir()
	keys = keygenKeys(t, dir)
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	srv, err = dev.RunServer(auth, server.RANDOM_PORT, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	cloudCreds, err := auth.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	files, err := cloudCreds.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"cloud.creds": files.Creds, "ca.pem": files.CA, "cert.pem": files.Cert, "key.pem": files.Key} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, keys, auth, srv
}
