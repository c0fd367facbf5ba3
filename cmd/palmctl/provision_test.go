package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/dev"
)

// TestProvisionEndToEnd provisions palmd's simulation build, started on a
// factory-fresh config, through palmctl provision over the console socket:
// a technician's key is refused and a tampered config too, the factory's
// goes through; palmd then exits with status 3 (systemd restarts it), the
// files are on the data partition with mode 0600, and palmd -t finds the
// config provisioned.
func TestProvisionEndToEnd(t *testing.T) {
	bin := buildSim(t)
	dir, data := t.TempDir(), t.TempDir()
	write := func(path string, b []byte) string {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The technicians' keys and the release key.
	tech, fab := filepath.Join(dir, "tech.key"), filepath.Join(dir, "fab.key")
	techEntry, _, err := writeKey(tech, "tech", "technician")
	if err != nil {
		t.Fatal(err)
	}
	fabEntry, _, err := writeKey(fab, "fab", "factory")
	if err != nil {
		t.Fatal(err)
	}
	technicians, err := json.Marshal(config.Console{Technicians: []config.Technician{techEntry, fabEntry}})
	if err != nil {
		t.Fatal(err)
	}
	pub, release, _ := ed25519.GenerateKey(nil)
	pemKeys, _ := secureboot.MarshalPublicKey(pub)
	releaseKeys := write(filepath.Join(dir, "release.pem"), pemKeys)
	known, err := config.Load("../../firmware/config/testdata/remote_provisioned.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := func(device string, u config.Uplink) []byte {
		return fmt.Appendf(nil, `{"device_id": %q, "hardware": "sim",
  "uplink": {"url": "tls://nats.palmd.invalid:4222", "creds": %q, "ca": %q, "cert": %q, "key": %q,
    "seal_key": %q, "payment_key": %q, "sign_key": %q},
  "update": {"dir": %q, "keys": %q}, "console": %s}`, device, filepath.Join(data, "kiosk.creds"), filepath.Join(data, "ca.pem"),
			filepath.Join(data, "kiosk.crt"), filepath.Join(data, "kiosk.key"), u.SealKey, u.PaymentKey, u.SignKey, data, releaseKeys, technicians)
	}
	cfg := write(filepath.Join(data, "config.json"), doc("kiosk-unprovisioned", config.Uplink{}))
	// What the factory station sends.
	var signed bytes.Buffer
	if _, err := secureboot.SignConfig(&signed, release, secureboot.Manifest{Product: "palmkiosk", Version: 1, Created: time.Unix(1_700_000_000, 0)},
		doc("kiosk-42", known.Uplink)); err != nil {
		t.Fatal(err)
	}
	signedFile := write(filepath.Join(dir, "config.signed"), signed.Bytes())
	tampered := bytes.Clone(signed.Bytes())
	tampered[len(tampered)-20] ^= 1
	tamperedFile := write(filepath.Join(dir, "tampered.signed"), tampered)
	creds, err := dev.NewDeviceFiles("kiosk-42")
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key := creds.CA, creds.Cert, creds.Key
	files := []string{"-creds", write(filepath.Join(dir, "kiosk.creds"), creds.Creds), "-ca", write(filepath.Join(dir, "ca.pem"), ca),
		"-cert", write(filepath.Join(dir, "kiosk.crt"), cert), "-key", write(filepath.Join(dir, "kiosk.key"), key)}

	sock := filepath.Join(dir, "console.sock")
	var palmdErr bytes.Buffer
	cmd := exec.Command(bin, "-config", cfg, "-json", "-console-socket", sock)
	cmd.Stderr = &palmdErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	})
	c, err := waitDial(sock, time.Minute, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	palmctl := func(key, user, config string) (string, error) {
		var out, errs strings.Builder
		args := append([]string{"-socket", sock, "-key", key, "-user", user, "provision", "-config", config}, files...)
		err := run(context.Background(), args, &out, &errs)
		return out.String(), err
	}
	if _, err := palmctl(tech, "tech", signedFile); err == nil || !strings.Contains(err.Error(), "needs the factory role") {
		t.Errorf("a technician provisions: %v", err)
	}
	if _, err := palmctl(fab, "fab", tamperedFile); err == nil || !strings.Contains(err.Error(), "provision commit: config: signature:") {
		t.Errorf("a tampered config: %v", err)
	}
	out, err := palmctl(fab, "fab", signedFile)
	if err != nil || !strings.Contains(out, `"committed":true`) {
		t.Fatalf("palmctl provision: %q, %v", out, err)
	}
	select {
	case err := <-exited:
		var x *exec.ExitError
		if !errors.As(err, &x) || x.ExitCode() != 3 {
			t.Errorf("palmd exited with %v, want status 3\n%s", err, palmdErr.String())
		}
		exited <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("palmd did not exit after provisioning")
	}
	for _, name := range []string{"kiosk.creds", "ca.pem", "kiosk.crt", "kiosk.key", "config.json", "config.signed"} {
		if fi, err := os.Stat(filepath.Join(data, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", name, fi, err)
		}
	}
	got, err := exec.Command(bin, "-t", "-config", cfg).CombinedOutput()
	if err != nil || string(got) != "configuration ok\n" {
		t.Errorf("palmd -t after provisioning: %q, %v", got, err)
	}
	if strings.Contains(palmdErr.String(), "PRIVATE KEY") || strings.Contains(palmdErr.String(), "SEED") {
		t.Errorf("palmd logged key material:\n%s", palmdErr.String())
	}
}
