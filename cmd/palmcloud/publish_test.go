package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/wire"
)

// TestPublish runs "palmcloud publish": the bundle is verified, stored in
// the bundle bucket and named in an update command queued for the kiosk,
// which receives it and reads the same bytes through "palmcloud serve"; a
// bundle that does not verify is not published.
func TestPublish(t *testing.T) {
	dir, keys, auth, srv := testRegion(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	pem, _ := secureboot.MarshalPublicKey(pub)
	trusted := filepath.Join(dir, "fwsign.pub")
	if err := os.WriteFile(trusted, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	img := make([]byte, 150<<10)
	rand.Read(img)
	var b bytes.Buffer
	if _, err := secureboot.SignBundle(&b, priv, secureboot.Manifest{Product: "palmkiosk", Version: 9, Release: "1.9.0",
		Created: time.Unix(1_700_000_000, 0)}, bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "palmkiosk-9.bundle")
	bad := filepath.Join(dir, "bad.bundle")
	tampered := bytes.Clone(b.Bytes())
	tampered[len(tampered)/2] ^= 1
	for p, data := range map[string][]byte{good: b.Bytes(), bad: tampered} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	const device = "kiosk-7"
	creds, err := auth.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	signKey, _ := base64.StdEncoding.DecodeString(keys.SignKey)
	got := make(chan wire.Command, 1)
	c, err := uplink.Dial(srv.ClientURL(), device, signKey, append(creds.Options(), uplink.OnCommand(func(c wire.Command) { got <- c }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	args := func(bundle string) []string {
		return []string{"publish", "-url", srv.ClientURL(), "-creds", filepath.Join(dir, "cloud.creds"),
			"-ca", filepath.Join(dir, "ca.pem"), "-cert", filepath.Join(dir, "cert.pem"), "-key", filepath.Join(dir, "key.pem"),
			"-keys", dir, "-memory", "-bundle", bundle, "-trusted", trusted, "-device", device}
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args(bad), &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "not published") {
		t.Fatalf("tampered bundle: %v", err)
	}
	if err := run(context.Background(), args(good), &stdout, &stderr); err != nil {
		t.Fatalf("publish: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "published palmkiosk-9.bundle: version 9 (1.9.0)") || !strings.Contains(stdout.String(), "update queued for kiosk-7") {
		t.Errorf("stdout %q", stdout.String())
	}
	var cmd wire.Command
	select {
	case cmd = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no update command")
	}
	if cmd.Type != wire.CmdUpdate || cmd.Update.Version != 9 || cmd.Update.Size != int64(b.Len()) || cmd.Seq == 0 {
		t.Fatalf("command %+v", cmd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var serveErr syncWriter
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-url", srv.ClientURL(), "-creds", filepath.Join(dir, "cloud.creds"),
			"-ca", filepath.Join(dir, "ca.pem"), "-cert", filepath.Join(dir, "cert.pem"), "-key", filepath.Join(dir, "key.pem"),
			"-keys", dir, "-memory"}, &bytes.Buffer{}, &serveErr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()
	var rc io.ReadCloser
	for {
		// The cloud may still be starting: retry "no responders" only.
		if rc, err = c.Bundle(ctx, *cmd.Update); !errors.Is(err, nats.ErrNoResponders) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, serveErr.String())
	}
	defer rc.Close()
	if data, err := io.ReadAll(rc); err != nil || !bytes.Equal(data, b.Bytes()) {
		t.Fatalf("read %d bytes, %v", len(data), err)
	}
}
