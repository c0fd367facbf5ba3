package main

// Provisioning: a kiosk in its not-provisioned mode takes its credentials
// and signed config from the factory station over the console (provision
// begin … commit), writes them to the data partition and exits with
// exitProvisioned; systemd (Restart=always) starts it again, provisioned.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/jwt/v2"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/secureboot"
)

// errProvisioned ends palmd after a successful provision: main exits with
// exitProvisioned, and systemd starts palmd again on the new config. Only
// a commit that leaves a config with nothing missing gets here, so a kiosk
// that is not provisioned never exits of its own accord.
var errProvisioned = errors.New("provisioned: exiting to start again on the new config")

// exitProvisioned is palmd's exit code after a successful provision.
const exitProvisioned = 3

// provisioner is the console's Provisioner while the kiosk is not
// provisioned.
type provisioner struct {
	running config.Config // the image's config, not provisioned
	log     *slog.Logger

	mu   sync.Mutex
	done chan struct{} // closed once provisioned
}

func newProvisioner(running config.Config, log *slog.Logger) *provisioner {
	return &provisioner{running: running, log: log, done: make(chan struct{})}
}

// forConsole is p as the console's Provisioner: nil (provisioned) for a
// nil p.
func (p *provisioner) forConsole() console.Provisioner {
	if p == nil {
		return nil
	}
	return p
}

// credential is one credential file: the config field that names it and
// the transfer's part that carries it.
type credential struct {
	field, part, path string
	check             func(b []byte, parts console.Provision) error
}

// Provision verifies every part before it writes any: the config's
// signature (the release keys, update.keys, and product, as a signed
// config from the cloud), the config itself (config.Parse and the checks
// palmd runs at start), each credential file, and that nothing would be
// missing afterwards. The credential files go to the paths the new config
// names, which must be in update.dir (the data partition); the config
// goes over palmd's config file, the signed document beside it.
func (p *provisioner) Provision(_ context.Context, parts console.Provision) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return errors.New("already provisioned: palmd is restarting")
	default:
	}
	u := p.running.Update
	switch {
	case p.running.Path == "":
		return errors.New("config: palmd runs without a config file (-config): there is nowhere to install the config")
	case u.Dir == "":
		return errors.New("update.dir: empty: the credentials go to palmd's directory on the data partition")
	case u.Keys == "":
		return errors.New("update.keys: empty: a signed config cannot be verified without the release keys")
	}
	pem, err := os.ReadFile(u.Keys)
	if err != nil {
		return fmt.Errorf("update.keys: %w", err)
	}
	keys, err := secureboot.ParsePublicKeys(pem)
	if err != nil {
		return fmt.Errorf("update.keys: %w", err)
	}
	signed, ok := parts[console.PartConfig]
	if !ok {
		return errors.New("config: not sent (want the config document in the release keys' signed envelope)")
	}
	m, payload, err := secureboot.Policy{Keys: keys, Product: u.Product}.VerifyConfig(bytes.NewReader(signed))
	if err != nil {
		return fmt.Errorf("config: signature: %w", err)
	}
	next, err := config.Parse(payload)
	if err != nil {
		return err // config.Parse names the field
	}
	if err := checkCloud(next); err != nil {
		return err
	}
	if next.Language != "" && !slices.Contains(firmware.Languages(), next.Language) {
		return fmt.Errorf("config: language: %q: want one of %s", next.Language, strings.Join(firmware.Languages(), ", "))
	}
	creds := []credential{
		{"uplink.creds", console.PartCreds, next.Uplink.Creds, checkCreds},
		{"uplink.ca", console.PartCA, next.Uplink.CA, checkCA},
		{"uplink.cert", console.PartCert, next.Uplink.Cert, checkCertKey},
		{"uplink.key", console.PartKey, next.Uplink.Key, checkCertKey},
	}
	var write []credential
	for _, c := range creds {
		b, sent := parts[c.part]
		switch {
		case c.path == "" && sent:
			return fmt.Errorf("%s: sent, but the signed config names no file for it", c.field)
		case c.path == "":
			continue
		case !within(u.Dir, c.path):
			return fmt.Errorf("%s: %q: want a file in update.dir %q (the data partition)", c.field, c.path, u.Dir)
		case !sent:
			if _, err := os.Stat(c.path); err != nil {
				return fmt.Errorf("%s: not sent, and %s is not on the kiosk", c.field, c.path)
			}
			continue
		}
		if err := c.check(b, parts); err != nil {
			return fmt.Errorf("%s: %w", c.field, err)
		}
		write = append(write, c)
	}
	// What would still be missing once the files are written.
	for _, miss := range next.Missing() {
		if !slices.ContainsFunc(write, func(c credential) bool { return strings.HasPrefix(miss, c.field+" (") }) {
			return fmt.Errorf("config: it would leave the kiosk unprovisioned: %s missing", miss)
		}
	}
	// Verified: write the credentials first and the config last, so that
	// an interrupted provision leaves the kiosk not provisioned.
	for _, c := range write {
		if err := writePrivate(c.path, parts[c.part]); err != nil {
			return fmt.Errorf("%s: writing %s: %w", c.field, c.path, err)
		}
	}
	if err := writePrivate(filepath.Join(u.Dir, "config.signed"), signed); err != nil {
		return fmt.Errorf("config: writing the signed document: %w", err)
	}
	if err := writePrivate(p.running.Path, payload); err != nil {
		return fmt.Errorf("config: writing %s: %w", p.running.Path, err)
	}
	// The next start must be provisioned: check it the way it will.
	saved, err := config.Load(p.running.Path)
	if err == nil && len(saved.Missing()) > 0 {
		err = fmt.Errorf("still missing %v", saved.Missing())
	}
	if err != nil {
		return fmt.Errorf("config: after writing %s: %w", p.running.Path, err)
	}
	close(p.done)
	var names []string
	for _, c := range write {
		names = append(names, c.field)
	}
	p.log.Info("provisioned", "device", next.DeviceID, "config_version", m.Version, "release", m.Release, "written", names)
	return nil
}

// wait returns errProvisioned a moment after a successful provision (the
// console's answer goes out first), nil when ctx ends.
func (p *provisioner) wait(ctx context.Context, clock clockwork.Clock) error {
	select {
	case <-ctx.Done():
		return nil
	case <-p.done:
	}
	select {
	case <-ctx.Done():
		return nil
	case <-clock.After(time.Second):
		return errProvisioned
	}
}

// within reports whether path is inside dir (both absolute and clean:
// config.Parse has refused relative paths and "..").
func within(dir, path string) bool {
	return strings.HasPrefix(filepath.Clean(path), filepath.Clean(dir)+string(filepath.Separator))
}

// writePrivate writes b atomically (temporary file, rename) with mode 0600,
// making its directory (0700) if needed.
func writePrivate(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return secureboot.WriteFileAtomic(path, b) // its temporary file is 0600
}

// checkCreds: a NATS credentials file, the user JWT and its nkey seed.
func checkCreds(b []byte, _ console.Provision) error {
	if _, err := jwt.ParseDecoratedJWT(b); err != nil {
		return fmt.Errorf("want a NATS credentials file (user JWT and nkey seed): %w", err)
	}
	kp, err := jwt.ParseDecoratedUserNKey(b)
	if err != nil {
		return errors.New("want a NATS credentials file (user JWT and nkey seed): no user seed")
	}
	kp.Wipe()
	return nil
}

// checkCA: at least one PEM certificate.
func checkCA(b []byte, _ console.Provision) error {
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return errors.New("want PEM certificates (the server's CA)")
	}
	return nil
}

// checkCertKey: the client certificate and key belong together.
func checkCertKey(_ []byte, parts console.Provision) error {
	cert, key := parts[console.PartCert], parts[console.PartKey]
	if cert == nil || key == nil {
		return errors.New("send the client certificate and its key together (cert and key)")
	}
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		return fmt.Errorf("want the client certificate and its key, PEM, belonging together: %w", err)
	}
	return nil
}
