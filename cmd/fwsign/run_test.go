package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palmd/palmd/secureboot"
)

// fwsign runs the command in-process and returns its standard output.
func fwsign(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func mustFwsign(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := fwsign(t, "", args...)
	if err != nil {
		t.Fatalf("fwsign %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

func newKeys(t *testing.T, dir string) (key, pub string) {
	t.Helper()
	mustFwsign(t, "keygen", "-out", dir)
	return filepath.Join(dir, privateKeyFile), filepath.Join(dir, publicKeyFile)
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func manifestOf(t *testing.T, out string) secureboot.Manifest {
	t.Helper()
	var m secureboot.Manifest
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not a manifest: %v\n%s", err, out)
	}
	return m
}

func TestBundleSignVerify(t *testing.T) {
	dir := t.TempDir()
	key, pub := newKeys(t, filepath.Join(dir, "keys"))
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v, %v; want mode 0600", fi, err)
	}
	img := writeFile(t, filepath.Join(dir, "rootfs.ext4"), strings.Repeat("ext4 image ", 5000))
	bundle := filepath.Join(dir, "rootfs.bundle")

	signed := manifestOf(t, mustFwsign(t, "bundle", "-key", key, "-version", "12", "-release", "1.2.0",
		"-created", "1700000000", "-image", img, "-out", bundle))
	if signed.Version != 12 || signed.Size != 55000 || signed.Kind != secureboot.KindFirmware || signed.Created.Unix() != 1700000000 {
		t.Fatalf("signed manifest: %+v", signed)
	}
	verified := manifestOf(t, mustFwsign(t, "verify", "-pub", pub, bundle))
	if verified.SHA256 != signed.SHA256 || verified.Release != "1.2.0" {
		t.Fatalf("verified %+v, signed %+v", verified, signed)
	}

	_, otherPub := newKeys(t, filepath.Join(dir, "other"))
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	tampered := filepath.Join(dir, "tampered.bundle")
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"other key", []string{"verify", "-pub", otherPub, bundle}, secureboot.ErrBadSignature},
		{"tampered", []string{"verify", "-pub", pub, tampered}, secureboot.ErrDigestMismatch},
		{"rollback", []string{"verify", "-pub", pub, "-min", "13", bundle}, secureboot.ErrRollback},
		{"as config", []string{"verify", "-pub", pub, "-config", bundle}, secureboot.ErrWrongKind},
		{"other product", []string{"verify", "-pub", pub, "-product", "x", bundle}, secureboot.ErrWrongProduct},
		{"not a bundle", []string{"verify", "-pub", pub, img}, secureboot.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := fwsign(t, "", tt.args...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if out != "" {
				t.Errorf("printed %q for a refused file", out)
			}
		})
	}
}

func TestConfigSignVerify(t *testing.T) {
	dir := t.TempDir()
	key, pub := newKeys(t, dir)
	doc := `{"device_id":"kiosk-9","hardware":"sim"}`
	out := filepath.Join(dir, "config.signed")
	mustFwsign(t, "config", "-key", key, "-version", "3", "-in", writeFile(t, filepath.Join(dir, "c.json"), doc), "-out", out)
	m := manifestOf(t, mustFwsign(t, "verify", "-pub", pub, "-config", out))
	if m.Kind != secureboot.KindConfig || m.Version != 3 || m.Size != int64(len(doc)) {
		t.Fatalf("manifest %+v", m)
	}
	// From standard input too.
	stdout, stderr, err := fwsign(t, doc, "config", "-key", key, "-version", "4", "-in", "-", "-out", out)
	if err != nil || manifestOf(t, stdout).Version != 4 {
		t.Fatalf("config from stdin: %v\n%s", err, stderr)
	}

	// A document palmd would refuse is not signed, and nothing is written.
	bad := filepath.Join(dir, "bad.signed")
	for name, doc := range map[string]string{
		"misspelt key": `{"device_id":"kiosk-9","hardwre":"sim"}`,
		"not JSON":     `device_id = kiosk`,
		"bad value":    `{"device_id":"Kiosk 9"}`,
	} {
		_, _, err := fwsign(t, doc, "config", "-key", key, "-version", "5", "-in", "-", "-out", bad)
		if err == nil {
			t.Errorf("%s: signed", name)
		}
		if _, serr := os.Stat(bad); !os.IsNotExist(serr) {
			t.Errorf("%s: output written: %v", name, serr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 { // key, pub, c.json, config.signed
		t.Errorf("directory holds %d files, want 4 (no temporaries left)", len(entries))
	}
}

func TestKeygenRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKeys(t, dir)
	before, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fwsign(t, "", "keygen", "-out", dir); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second keygen: err = %v, want os.ErrExist", err)
	}
	after, _ := os.ReadFile(key)
	if !bytes.Equal(before, after) {
		t.Fatal("second keygen changed the private key")
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no command", nil, "usage:"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"keygen without -out", []string{"keygen"}, "-out is required"},
		{"bundle without -version", []string{"bundle", "-key", "k", "-image", "i", "-out", "o"}, "-version is required"},
		{"config without -in", []string{"config", "-key", "k", "-version", "1", "-out", "o"}, "-in is required"},
		{"verify without file", []string{"verify", "-pub", "p"}, "want one FILE"},
		{"stray argument", []string{"keygen", "-out", "d", "extra"}, "unexpected argument"},
		{"bad flag value", []string{"bundle", "-version", "x"}, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := fwsign(t, "", tt.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(stderr, tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr, tt.msg)
			}
		})
	}
}

func TestBundleCancelled(t *testing.T) {
	dir := t.TempDir()
	key, _ := newKeys(t, dir)
	img := writeFile(t, filepath.Join(dir, "img"), "image")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(dir, "b")
	err := run(ctx, []string{"bundle", "-key", key, "-version", "1", "-image", img, "-out", out}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("output exists after a cancelled run: %v", err)
	}
}

func TestReleaseHeader(t *testing.T) {
	dir := t.TempDir()
	key, pub := newKeys(t, filepath.Join(dir, "keys"))
	exe := writeFile(t, filepath.Join(dir, "palmd"), strings.Repeat("\x7fELF palmd ", 3000))
	sig := filepath.Join(dir, "release.sig")
	m := manifestOf(t, mustFwsign(t, "release", "-key", key, "-version", "7", "-release", "1.7.0", "-exe", exe, "-out", sig))
	if m.Kind != secureboot.KindRelease || m.Version != 7 || m.Size != 3000*11 {
		t.Fatalf("manifest = %+v", m)
	}
	hdr, err := os.Open(sig)
	if err != nil {
		t.Fatal(err)
	}
	defer hdr.Close()
	if fi, _ := hdr.Stat(); fi.Size() >= m.Size {
		t.Errorf("release.sig is %d bytes: it carries the binary, not only the header", fi.Size())
	}
	bin, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	pemKeys, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secureboot.ParsePublicKeys(pemKeys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := secureboot.Policy{Keys: keys, Product: "palmkiosk"}.VerifyRelease(hdr, bin)
	if err != nil || got.Version != 7 {
		t.Fatalf("VerifyRelease = %+v, %v", got, err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "fwsign verify -pub PUB"},
		{[]string{"-version"}, "fwsign dev"},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Errorf("%v: %v", tt.args, err)
		}
		if !strings.Contains(stdout.String(), tt.want) {
			t.Errorf("%v printed %q, want %q", tt.args, stdout.String(), tt.want)
		}
	}
	if err := run(context.Background(), []string{"keygen", "-h"}, strings.NewReader(""), io.Discard, io.Discard); !errors.Is(err, errHelped) {
		t.Errorf("keygen -h: %v, want the help printed and nothing done", err)
	}
}
