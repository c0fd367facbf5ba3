package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"go.bug.st/serial"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
)

// client is a logged-in console session in machine mode: every answer is
// one JSON line.
type client struct {
	rw io.ReadWriteCloser
	r  *bufio.Reader
}

// dial connects to the console on a unix socket or a serial port.
func dial(socket, dev string, baud int) (*client, error) {
	var rw io.ReadWriteCloser
	var err error
	if dev != "" {
		rw, err = serial.Open(dev, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	} else {
		rw, err = net.Dial("unix", socket)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to the console: %w", err)
	}
	c := &client{rw: rw, r: bufio.NewReader(rw)}
	// The session starts interactive: switch it to machine mode, and skip
	// the echo and prompt until its answer.
	if _, err := io.WriteString(rw, "\rmachine\r"); err != nil {
		rw.Close()
		return nil, fmt.Errorf("console: %w", err)
	}
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			rw.Close()
			return nil, fmt.Errorf("console: switching to machine mode: %w", err)
		}
		if strings.TrimSpace(line) == `{"ok":true}` {
			return c, nil
		}
	}
}

// Close logs out (a serial console stays connected) and disconnects.
func (c *client) Close() error {
	_, _ = io.WriteString(c.rw, "quit\n")
	return c.rw.Close()
}

// answer is one machine-mode answer.
type answer struct {
	raw json.RawMessage
	err string // the console refused or failed the command
}

// do runs one command line and returns its answer.
func (c *client) do(line string) (answer, error) {
	if strings.ContainsAny(line, "\r\n") {
		return answer{}, errors.New("command: one line only")
	}
	if _, err := io.WriteString(c.rw, line+"\n"); err != nil {
		return answer{}, fmt.Errorf("console: %w", err)
	}
	b, err := c.r.ReadBytes('\n')
	if err != nil {
		return answer{}, fmt.Errorf("console: reading the answer to %q: %w", strings.Fields(line + " ?")[0], err)
	}
	var e struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return answer{}, fmt.Errorf("console: answer %q: not JSON: %w", b, err)
	}
	a := answer{raw: json.RawMessage(b)}
	if e.Error != nil {
		a.err = *e.Error
	}
	return a, nil
}

// login signs the console's challenge with key.
func (c *client) login(user string, key ed25519.PrivateKey) error {
	a, err := c.do("login " + user + " --json")
	if err != nil {
		return err
	}
	if a.err != "" {
		return errors.New(a.err)
	}
	var ch struct{ Challenge, Device string }
	if err := json.Unmarshal(a.raw, &ch); err != nil {
		return fmt.Errorf("login: challenge: %w", err)
	}
	nonce, err := base64.StdEncoding.DecodeString(ch.Challenge)
	if err != nil || len(nonce) != console.ChallengeSize {
		return fmt.Errorf("login: challenge %q: want %d bytes of base64", ch.Challenge, console.ChallengeSize)
	}
	sig := ed25519.Sign(key, console.SignedMessage(ch.Device, nonce))
	if a, err = c.do("response " + base64.StdEncoding.EncodeToString(sig) + " --json"); err != nil {
		return err
	}
	if a.err != "" {
		return errors.New(a.err)
	}
	return nil
}

// loadKey reads a PKCS#8 PEM Ed25519 private key (palmctl keygen, or
// openssl genpkey -algorithm ed25519).
func loadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %s: want a PEM \"PRIVATE KEY\" block (PKCS#8 Ed25519)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s: %T: want an Ed25519 key", path, k)
	}
	return ek, nil
}

// writeKey writes a new key to path (0600) and returns its entry for the
// signed config's console.technicians.
func writeKey(path, user string, role console.Role) (config.Technician, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return config.Technician{}, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return config.Technician{}, nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return config.Technician{}, nil, fmt.Errorf("key: %w", err)
	}
	return config.Technician{Role: string(role), Key: base64.StdEncoding.EncodeToString(pub), Name: user}, priv, nil
}

// writeSimConfig writes a config for palmd's simulation build (the
// defaults) that lets techs log in to its console (0600).
func writeSimConfig(path string, techs ...config.Technician) error {
	b, err := json.Marshal(map[string]config.Console{"console": {Technicians: techs}})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// waitDial retries dial until the console answers or timeout passes (a
// palmd that has just been started).
func waitDial(socket string, timeout time.Duration, alive func() error) (*client, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := dial(socket, "", 0)
		if err == nil {
			return c, nil
		}
		if aerr := alive(); aerr != nil {
			return nil, aerr
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the console did not answer within %v: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
