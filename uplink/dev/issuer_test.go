package dev_test

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/dev/devtest"
)

// TestIssuerFiles: an Authority writes its issuer files readable by
// their owner only; an Issuer loaded from them mints a kiosk that a
// server of the Authority accepts (JWT, certificate bound to the nkey,
// server verified by the server CA file), and whose credential files name
// that server CA; the Authority still mints kiosks after writing them.
func TestIssuerFiles(t *testing.T) { devtest.Bubble(t, testIssuerFiles) }

// testIssuerFiles makes every certificate in the bubble: its clock starts
// in 2000, and a certificate made outside would not be valid yet.
func testIssuerFiles(t *testing.T) {
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := auth.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{dev.IssuerAccountFile, dev.IssuerCAFile, dev.IssuerCAKeyFile, dev.IssuerServerCAFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if err := auth.WriteFiles(dir); err == nil {
		t.Error("WriteFiles overwrote the issuer files")
	}

	iss, err := dev.LoadIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	signPub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The loaded Issuer's kiosk, and one of the Authority's own (writing
	// its files left its keys as they were), on a server on no port.
	o, err := auth.ServerOptions(server.DEFAULT_PORT)
	if err != nil {
		t.Fatal(err)
	}
	o.DontListen = true
	srv, err := dev.StartServer(o)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	var creds dev.Credentials
	for id, iss := range map[string]*dev.Issuer{"kiosk-7": iss, "kiosk-8": &auth.Issuer} {
		if creds, err = iss.Device(id); err != nil {
			t.Fatal(err)
		}
		k, err := uplink.Dial(srv.ClientURL(), id, signPub, append(creds.Options(), uplink.InProcess(srv))...)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		synctest.Wait()
		if !k.Connected() {
			t.Fatalf("%s did not connect", id)
		}
	}

	files, err := creds.Files()
	if err != nil {
		t.Fatal(err)
	}
	serverCA, err := os.ReadFile(filepath.Join(dir, dev.IssuerServerCAFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files.CA, serverCA) {
		t.Errorf("credential files' CA is not %s", dev.IssuerServerCAFile)
	}
}

// TestLoadIssuerErrors: each bad issuer file is named, with what it
// should hold, and no error shows a key.
func TestLoadIssuerErrors(t *testing.T) {
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	if err := auth.WriteFiles(good); err != nil {
		t.Fatal(err)
	}
	other, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	otherDir := t.TempDir()
	if err := other.WriteFiles(otherDir); err != nil {
		t.Fatal(err)
	}
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	userSeed, _ := user.Seed()
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	caCert := read(good, dev.IssuerCAFile)
	client, err := auth.Device("kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	clientFiles, err := client.Files()
	if err != nil {
		t.Fatal(err)
	}
	clientCert := clientFiles.Cert

	tests := []struct {
		name    string
		file    string
		content []byte // nil: the file is missing
		want    string
	}{
		{"missing account seed", dev.IssuerAccountFile, nil, "account.nk: no such file"},
		{"user seed", dev.IssuerAccountFile, userSeed, "account.nk: holds the seed of a user key; want the account's seed (SA...)"},
		{"not a seed", dev.IssuerAccountFile, []byte("SAnotaseed\n"), "account.nk: not an nkey seed"},
		{"missing CA", dev.IssuerCAFile, nil, "fleet-ca.pem: no such file"},
		{"CA is a key", dev.IssuerCAFile, read(good, dev.IssuerCAKeyFile), `fleet-ca.pem: a PEM "PRIVATE KEY" block; want CERTIFICATE`},
		{"CA is a client certificate", dev.IssuerCAFile, clientCert, "fleet-ca.pem: not a CA certificate; want one with basic constraints CA"},
		{"two CAs", dev.IssuerCAFile, append(caCert, read(otherDir, dev.IssuerCAFile)...), "fleet-ca.pem: 2 certificates; want the fleet CA's certificate alone"},
		{"other CA's key", dev.IssuerCAKeyFile, read(otherDir, dev.IssuerCAKeyFile), "fleet-ca-key.pem: not the key of the CA certificate in fleet-ca.pem"},
		{"CA key is a certificate", dev.IssuerCAKeyFile, caCert, `fleet-ca-key.pem: want a PEM "PRIVATE KEY" block`},
		{"missing server CA", dev.IssuerServerCAFile, nil, "server-ca.pem: no such file"},
		{"empty server CA", dev.IssuerServerCAFile, []byte{}, "server-ca.pem: want one or more PEM CA certificates"},
	}
	secrets := [][]byte{bytes.TrimSpace(read(good, dev.IssuerAccountFile)), userSeed, read(good, dev.IssuerCAKeyFile)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{dev.IssuerAccountFile, dev.IssuerCAFile, dev.IssuerCAKeyFile, dev.IssuerServerCAFile} {
				b := read(good, name)
				if name == tt.file {
					if b = tt.content; b == nil {
						continue
					}
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := dev.LoadIssuer(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadIssuer = %v, want %q", err, tt.want)
			}
			for _, s := range secrets {
				if bytes.Contains([]byte(err.Error()), s) {
					t.Errorf("error %q shows a key", err)
				}
			}
		})
	}
}
