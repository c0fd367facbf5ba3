package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink/callout"
)

// runCallout runs the auth callout service until ctx is done.
func runCallout(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("callout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.register(fs)
	account := fs.String("account", "", "the account's JWT `file`, with external authorization: its key and unscoped signing keys may sign kiosks' JWTs (required)")
	signer := fs.String("signer", "", "nkey seed `file` of the account's signing key (or the account's key) that signs the answers (required)")
	xkey := fs.String("xkey", "", "curve (xkey) seed `file` whose public key the account JWT names; required when it names one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.url == "" || *account == "" || *signer == "" {
		return errors.New("callout: -url, -account and -signer are required")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := calloutConfig(*account, *signer, *xkey)
	if err != nil {
		return err
	}
	cfg.Logger = log
	svc, err := callout.New(cfg)
	if err != nil {
		return err
	}
	nc, closed, err := c.connect(log)
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := svc.Subscribe(nc); err != nil {
		return err
	}
	log.Info("palmcloud: callout serving", "url", nc.ConnectedUrlRedacted(), "encrypted", cfg.XKey != nil, "version", version)
	<-ctx.Done()
	log.Info("palmcloud: callout stopping")
	// Answer the requests received, then close.
	if err := nc.Drain(); err != nil {
		return fmt.Errorf("callout: drain: %w", err)
	}
	<-closed
	return nil
}

// calloutConfig reads the account JWT and the seed files.
func calloutConfig(accountFile, signerFile, xkeyFile string) (callout.Config, error) {
	b, err := os.ReadFile(accountFile)
	if err != nil {
		return callout.Config{}, fmt.Errorf("callout: -account: %w", err)
	}
	ac, err := jwt.DecodeAccountClaims(string(bytes.TrimSpace(b)))
	if err != nil {
		return callout.Config{}, fmt.Errorf("callout: -account %s: %w", accountFile, err)
	}
	if !ac.HasExternalAuthorization() {
		return callout.Config{}, fmt.Errorf("callout: -account %s: the account does not enable external authorization (auth_users is empty): no server would ask", accountFile)
	}
	cfg := callout.Config{Issuers: callout.Issuers{Account: ac.Subject}}
	for k, scope := range ac.SigningKeys {
		if scope == nil {
			cfg.Issuers.SigningKeys = append(cfg.Issuers.SigningKeys, k)
		}
	}
	if cfg.Signer, err = readSeed(signerFile); err != nil {
		return callout.Config{}, fmt.Errorf("callout: -signer: %w", err)
	}
	want := ac.Authorization.XKey
	switch {
	case xkeyFile == "" && want != "":
		return callout.Config{}, fmt.Errorf("callout: -xkey is required: the account JWT encrypts requests to xkey %s", want)
	case xkeyFile == "":
		return cfg, nil
	case want == "":
		return callout.Config{}, errors.New("callout: -xkey given but the account JWT names no xkey: servers would send requests in clear")
	}
	if cfg.XKey, err = readSeed(xkeyFile); err != nil {
		return callout.Config{}, fmt.Errorf("callout: -xkey: %w", err)
	}
	if pub, _ := cfg.XKey.PublicKey(); pub != want {
		return callout.Config{}, fmt.Errorf("callout: -xkey %s is not the key the account JWT names (%s)", xkeyFile, want)
	}
	return cfg, nil
}

// readSeed reads a file holding an nkey seed alone (SA..., SX...).
func readSeed(path string) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	kp, err := nkeys.FromSeed(bytes.TrimSpace(b))
	if err != nil {
		return nil, fmt.Errorf("%s: not an nkey seed: %w", path, err)
	}
	return kp, nil
}
