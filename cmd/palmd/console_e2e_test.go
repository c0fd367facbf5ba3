//go:build sim

package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/wire"
)

// TestSignedConfigReplacesConsoleKeys runs palmd (simulated parts) with
// its console on a socket, against a cloud: the technicians of its config
// log in; a signed config from the cloud that removes one applies at once
// (no restart): that technician's open session ends and the key is refused
// from then on, and the technician the new config adds logs in.
func TestSignedConfigReplacesConsoleKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs palmd against a cloud")
	}
	e := newUpdateEnv(t)
	dir, config := e.config(t)
	alicePub, alice, _ := ed25519.GenerateKey(nil)
	bobPub, bob, _ := ed25519.GenerateKey(nil)
	tech := func(name string, pub ed25519.PublicKey) string {
		return fmt.Sprintf(`{"role": "technician", "key": %q, "name": %q}`, base64.StdEncoding.EncodeToString(pub), name)
	}
	doc := func(techs ...string) []byte {
		return config(fmt.Sprintf(`"console": {"technicians": [%s]}`, strings.Join(techs, ", ")))
	}
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, doc(tech("alice", alicePub)), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("palmd log:\n%s", logs.String())
		}
	}()
	sock := filepath.Join(dir, "console.sock")
	events, stop := runPalmdConsole(t, path, logs, consoleFlags{socket: sock})
	defer stop()
	awaitEvent(t, events, func(ev bus.Event) bool { return ev.Event == bus.Mode && ev.Mode == "serving" }, "serving mode")

	aliceSession := dialConsole(t, sock)
	if got := aliceSession.login(t, "alice", alice); got["user"] != "alice" {
		t.Fatalf("alice's login: %v", got)
	}
	if got := dialConsole(t, sock).login(t, "bob", bob); got["error"] != "response: login refused" {
		t.Fatalf("bob's login before the new config: %v", got)
	}

	var signed bytes.Buffer
	if _, err := secureboot.SignConfig(&signed, e.priv, secureboot.Manifest{Product: "palmkiosk", Version: 1,
		Created: time.Unix(1_700_000_000, 0)}, doc(tech("bob", bobPub))); err != nil {
		t.Fatal(err)
	}
	// Queued through JetStream, as the cloud sends commands: published
	// directly, it could reach the server before palmd's subscription
	// does and be lost.
	if err := e.dev.Cloud.Send(e.dev.CloudConn(), updateDevice, wire.Command{Type: wire.CmdConfig, Config: signed.Bytes()}); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, events, func(ev bus.Event) bool { return ev.Event == evConfig && ev.Reason == "applied:1" }, "config applied:1")

	if got := aliceSession.read(t); got["error"] != "session ended: your key was removed from the config" {
		t.Errorf("alice's open session after her key was removed: %v", got)
	}
	if got := aliceSession.do(t, "status"); !strings.HasPrefix(fmt.Sprint(got["error"]), "status: log in first") {
		t.Errorf("status in alice's ended session: %v", got)
	}
	if got := dialConsole(t, sock).login(t, "alice", alice); got["error"] != "response: login refused" {
		t.Errorf("alice's login after her key was removed: %v", got)
	}
	if got := dialConsole(t, sock).login(t, "bob", bob); got["user"] != "bob" {
		t.Errorf("bob's login after the new config: %v", got)
	}
}

// consoleConn is a console session in machine mode over the socket.
type consoleConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialConsole(t *testing.T, sock string) consoleConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cc := consoleConn{c: c, r: bufio.NewReader(c)}
	if got := cc.do(t, "machine"); got["ok"] != true {
		t.Fatalf("machine: %v", got)
	}
	return cc
}

// read returns the next JSON answer, past the terminal's echo and prompt.
func (cc consoleConn) read(t *testing.T) map[string]any {
	t.Helper()
	cc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		line, err := cc.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the console: %v", err)
		}
		if i := strings.IndexByte(line, '{'); i >= 0 {
			var v map[string]any
			if err := json.Unmarshal([]byte(line[i:]), &v); err != nil {
				t.Fatalf("console answer %q: %v", line, err)
			}
			return v
		}
	}
}

func (cc consoleConn) do(t *testing.T, line string) map[string]any {
	t.Helper()
	if _, err := cc.c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	return cc.read(t)
}

// login runs the challenge-response with key and returns the answer.
func (cc consoleConn) login(t *testing.T, name string, key ed25519.PrivateKey) map[string]any {
	t.Helper()
	ch := cc.do(t, "login "+name+" --json")
	challenge, err := base64.StdEncoding.DecodeString(fmt.Sprint(ch["challenge"]))
	if err != nil {
		t.Fatalf("login %s: %v", name, ch)
	}
	sig := ed25519.Sign(key, console.SignedMessage(fmt.Sprint(ch["device"]), challenge))
	return cc.do(t, "response "+base64.StdEncoding.EncodeToString(sig)+" --json")
}
