package main

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/dev"
)

// provEnv is a factory-fresh kiosk's data partition and image, and a
// factory station's credentials and release key.
type provEnv struct {
	data, image string // update.dir and the image's files (update.keys)
	config      string // palmd's config file, on the data partition
	release     ed25519.PrivateKey
	keys        config.Uplink // seal, payment and sign keys to provision
	parts       console.Provision
}

func newProvEnv(t testing.TB) *provEnv {
	t.Helper()
	e := &provEnv{data: t.TempDir(), image: t.TempDir()}
	e.config = filepath.Join(e.data, "config.json")
	pub, priv, _ := ed25519.GenerateKey(nil)
	e.release = priv
	pemKeys, _ := secureboot.MarshalPublicKey(pub)
	if err := os.WriteFile(filepath.Join(e.image, "keys.pem"), pemKeys, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, e.doc("kiosk-unprovisioned", config.Uplink{}, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	known, err := config.Load("../../firmware/config/testdata/remote_provisioned.json")
	if err != nil {
		t.Fatal(err)
	}
	e.keys = known.Uplink
	f, err := dev.NewDeviceFiles("kiosk-42")
	if err != nil {
		t.Fatal(err)
	}
	e.parts = console.Provision{console.PartCreds: f.Creds, console.PartCA: f.CA, console.PartCert: f.Cert,
		console.PartKey: f.Key, console.PartConfig: nil}
	return e
}

// doc is a config naming the credential files on the data partition,
// with keys' seal, payment and sign keys; extra goes into "uplink".
func (e *provEnv) doc(device string, keys config.Uplink, extra string) []byte {
	d := e.data
	return fmt.Appendf(nil, `{"device_id": %q, "hardware": "sim",
  "uplink": {"url": "tls://nats.palmd.invalid:4222", "creds": %q, "ca": %q, "cert": %q, "key": %q,
    "seal_key": %q, "payment_key": %q, "sign_key": %q%s},
  "update": {"dir": %q, "keys": %q}}`, device, filepath.Join(d, "kiosk.creds"), filepath.Join(d, "ca.pem"),
		filepath.Join(d, "kiosk.crt"), filepath.Join(d, "kiosk.key"), keys.SealKey, keys.PaymentKey, keys.SignKey, extra,
		d, filepath.Join(e.image, "keys.pem"))
}

func (e *provEnv) sign(t testing.TB, key ed25519.PrivateKey, payload []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := secureboot.SignConfig(&b, key, secureboot.Manifest{Product: "palmkiosk", Version: 1, Created: time.Unix(1_700_000_000, 0)}, payload); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestProvision: the provisioner refuses, naming the field and writing
// nothing, a config that is unsigned, tampered with, signed by another key,
// invalid or still unprovisioned, and credentials that are not what their
// field says; it installs a good set with mode 0600, after which palmd
// starts provisioned.
func TestProvision(t *testing.T) {
	e := newProvEnv(t)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	other, err := dev.NewDeviceFiles("kiosk-43")
	if err != nil {
		t.Fatal(err)
	}
	good := e.doc("kiosk-42", e.keys, "")
	tampered := e.sign(t, e.release, good)
	tampered[len(tampered)-10] ^= 1
	with := func(part string, b []byte) console.Provision {
		p := console.Provision{}
		for k, v := range e.parts {
			p[k] = v
		}
		p[console.PartConfig] = e.sign(t, e.release, good)
		if b == nil {
			delete(p, part)
		} else {
			p[part] = b
		}
		return p
	}
	cfgWith := func(doc []byte) console.Provision { return with(console.PartConfig, doc) }
	noSeal := e.keys
	noSeal.SealKey = ""
	for _, tc := range []struct {
		name  string
		parts console.Provision
		want  string
	}{
		{"no config", with(console.PartConfig, nil), "config: not sent"},
		{"unsigned", cfgWith(good), "config: signature: "},
		{"tampered", cfgWith(tampered), "config: signature: "},
		{"unknown key", cfgWith(e.sign(t, otherKey, good)), "config: signature: "},
		{"invalid", cfgWith(e.sign(t, e.release, e.doc("kiosk-42", e.keys, `, "colour": "red"`))), "uplink.colour: unknown field"},
		{"still unprovisioned", cfgWith(e.sign(t, e.release, e.doc("kiosk-42", noSeal, ""))), "uplink.seal_key missing"},
		{"creds not creds", with(console.PartCreds, []byte("user=admin")), "uplink.creds: want a NATS credentials file"},
		{"creds not sent", with(console.PartCreds, nil), "uplink.creds: not sent, and " + filepath.Join(e.data, "kiosk.creds") + " is not on the kiosk"},
		{"ca not PEM", with(console.PartCA, []byte("ca")), "uplink.ca: want PEM certificates"},
		{"key of another cert", with(console.PartKey, other.Key), "uplink.cert: want the client certificate and its key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProvisioner(mustLoad(t, e.config), slog.New(slog.DiscardHandler))
			err := p.Provision(t.Context(), tc.parts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Provision: %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "SEED") {
				t.Errorf("the error holds key material: %v", err)
			}
			files, _ := os.ReadDir(e.data)
			if len(files) != 1 || files[0].Name() != "config.json" {
				t.Errorf("the data partition holds %v after a refusal", files)
			}
			if c := mustLoad(t, e.config); c.DeviceID != "kiosk-unprovisioned" {
				t.Errorf("config replaced: device %q", c.DeviceID)
			}
		})
	}

	var logs bytes.Buffer
	p := newProvisioner(mustLoad(t, e.config), slog.New(slog.NewTextHandler(&logs, nil)))
	parts := with(console.PartConfig, e.sign(t, e.release, good))
	if err := p.Provision(t.Context(), parts); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"kiosk.creds": parts[console.PartCreds], "ca.pem": parts[console.PartCA],
		"kiosk.crt": parts[console.PartCert], "kiosk.key": parts[console.PartKey], "config.json": good,
		"config.signed": parts[console.PartConfig]} {
		path := filepath.Join(e.data, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("%s: wrong contents", name)
		}
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") || strings.Contains(logs.String(), "SEED") {
		t.Errorf("the log holds key material: %s", logs.String())
	}
	// The next start is provisioned: palmd -t says so, and start reads it.
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-t", "-hw", "linux", "-config", e.config}, strings.NewReader(""), &out, io.Discard); err != nil || out.String() != "configuration ok\n" {
		t.Errorf("palmd -t after provisioning: %q, %v", out.String(), err)
	}
	if miss := mustLoad(t, e.config).Missing(); len(miss) > 0 {
		t.Errorf("still missing %v", miss)
	}
	// palmd exits, to be restarted, once the answer has gone out.
	clock := clockwork.NewFakeClock()
	done := make(chan error, 1)
	go func() { done <- p.wait(t.Context(), clock) }()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if err := <-done; err != errProvisioned {
		t.Errorf("wait: %v, want errProvisioned", err)
	}
	if err := p.Provision(t.Context(), parts); err == nil {
		t.Error("a second provision accepted")
	}
}

func mustLoad(t testing.TB, path string) config.Config {
	t.Helper()
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzProvision: whatever a station sends as the config and the credentials
// files, nothing without the release key's signature is installed, and
// nothing panics.
func FuzzProvision(f *testing.F) {
	e := newProvEnv(f)
	f.Add(e.doc("kiosk-42", e.keys, ""), e.parts[console.PartCreds])
	f.Add([]byte("PALMSIG1"), []byte("-----BEGIN NATS USER JWT-----\n"))
	f.Fuzz(func(t *testing.T, cfg, creds []byte) {
		p := newProvisioner(mustLoad(t, e.config), slog.New(slog.DiscardHandler))
		parts := console.Provision{console.PartConfig: cfg, console.PartCreds: creds,
			console.PartCA: e.parts[console.PartCA], console.PartCert: e.parts[console.PartCert], console.PartKey: e.parts[console.PartKey]}
		if err := p.Provision(t.Context(), parts); err == nil {
			t.Fatal("an unsigned config was installed")
		}
		if files, _ := os.ReadDir(e.data); len(files) != 1 {
			t.Fatalf("the data partition holds %d files after a refusal", len(files))
		}
	})
}
