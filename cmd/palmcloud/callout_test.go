package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink/callout"
	"github.com/palmd/palmd/uplink/dev"
)

// calloutFiles writes what "palmcloud callout" reads into a new directory
// and returns it with the authority and its callout.
func calloutFiles(t *testing.T) (string, *dev.Authority, dev.Callout) {
	t.Helper()
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	co, err := auth.Callout()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := co.Service.Files()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := auth.DeploymentFiles()
	if err != nil {
		t.Fatal(err)
	}
	other, err := nkeys.CreateCurveKeys()
	if err != nil {
		t.Fatal(err)
	}
	otherSeed, _ := other.Seed()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"callout.creds": svc.Creds, "ca.pem": svc.CA, "cert.pem": svc.Cert, "key.pem": svc.Key,
		"account.jwt": co.AccountJWT, "plain-account.jwt": plain.AccountJWT, "signer.nk": co.Signer, "xkey.nk": co.XKey,
		"other-xkey.nk": otherSeed} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, auth, co
}

// TestCallout runs "palmcloud callout" against an in-process server that
// leaves the binding to it: a kiosk gets in with its own certificate and
// credentials, not with another's.
func TestCallout(t *testing.T) {
	dir, auth, co := calloutFiles(t)
	o, err := auth.CalloutServerOptions(co, server.RANDOM_PORT)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dev.StartServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"callout", "-url", srv.ClientURL(), "-creds", filepath.Join(dir, "callout.creds"),
			"-ca", filepath.Join(dir, "ca.pem"), "-cert", filepath.Join(dir, "cert.pem"), "-key", filepath.Join(dir, "key.pem"),
			"-account", filepath.Join(dir, "account.jwt"), "-signer", filepath.Join(dir, "signer.nk"), "-xkey", filepath.Join(dir, "xkey.nk")},
			&bytes.Buffer{}, &stderr)
	}()
	acc, err := srv.LookupAccount(co.Issuers.Account)
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the service listens (or fails).
	for !acc.SubscriptionInterest(callout.Subject) {
		select {
		case err := <-done:
			t.Fatalf("callout returned %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	a, err := auth.Device("kiosk-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.Device("kiosk-b")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		cert  dev.Credentials
		creds dev.Credentials
		ok    bool
	}{
		{"own certificate and credentials", a, a, true},
		{"A's certificate, B's credentials", a, b, false},
	} {
		nc, err := nats.Connect(srv.ClientURL(), nats.UserJWTAndSeed(tt.creds.JWT, tt.creds.Seed), nats.Secure(tt.cert.TLS),
			nats.MaxReconnects(0), nats.Timeout(20*time.Second))
		if tt.ok && err != nil {
			t.Errorf("%s: %v\n%s", tt.name, err, stderr.String())
		}
		if !tt.ok && !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: err %v, want %v", tt.name, err, nats.ErrAuthorization)
		}
		if err == nil {
			nc.Close()
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("callout returned %v", err)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "palmcloud: callout serving") || !strings.Contains(logs, "encrypted=true") ||
		!strings.Contains(logs, "reason="+string(callout.CertificateNamesOtherUser)) {
		t.Errorf("logs:\n%s", logs)
	}
	for _, secret := range []string{a.Seed, b.Seed, b.JWT, string(co.Signer), string(co.XKey)} {
		if strings.Contains(logs, secret) {
			t.Errorf("key material in the logs:\n%s", logs)
		}
	}
}

func TestCalloutConfigErrors(t *testing.T) {
	dir, _, _ := calloutFiles(t)
	f := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "-url, -account and -signer are required"},
		{"no signer", []string{"-url", "nats://127.0.0.1:1", "-account", f("account.jwt")}, "are required"},
		{"account missing", []string{"-url", "nats://127.0.0.1:1", "-account", f("none.jwt"), "-signer", f("signer.nk")}, "no such file"},
		{"account not a JWT", []string{"-url", "nats://127.0.0.1:1", "-account", f("ca.pem"), "-signer", f("signer.nk")}, "-account"},
		{"account without callout", []string{"-url", "nats://127.0.0.1:1", "-account", f("plain-account.jwt"), "-signer", f("signer.nk")}, "does not enable external authorization"},
		{"signer not a seed", []string{"-url", "nats://127.0.0.1:1", "-account", f("account.jwt"), "-signer", f("ca.pem")}, "not an nkey seed"},
		{"signer is the xkey", []string{"-url", "nats://127.0.0.1:1", "-account", f("account.jwt"), "-signer", f("xkey.nk"), "-xkey", f("xkey.nk")}, "Signer is not an account key pair"},
		{"no xkey", []string{"-url", "nats://127.0.0.1:1", "-account", f("account.jwt"), "-signer", f("signer.nk")}, "-xkey is required"},
		{"other xkey", []string{"-url", "nats://127.0.0.1:1", "-account", f("account.jwt"), "-signer", f("signer.nk"), "-xkey", f("other-xkey.nk")}, "is not the key the account JWT names"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"callout"}, tt.args...), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"callout", "-h"}, &stdout, &stderr); !errors.Is(err, errHelp) ||
		!strings.Contains(stderr.String(), "-signer file") || !strings.Contains(stderr.String(), "-xkey file") {
		t.Errorf("callout -h: %v\n%s", err, stderr.String())
	}
}
