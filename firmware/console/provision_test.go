package console

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
)

// fakeProvisioner keeps a copy of what it was given and refuses with err.
type fakeProvisioner struct {
	mu  sync.Mutex
	got Provision
	err error
}

func (f *fakeProvisioner) Provision(_ context.Context, p Provision) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = Provision{}
	for k, v := range p {
		f.got[k] = append([]byte(nil), v...)
	}
	return f.err
}

func (f *fakeProvisioner) received() Provision {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got
}

// secretKey stands for a client key: it must reach the provisioner and
// nothing else.
var secretKey = []byte("-----BEGIN PRIVATE KEY-----\nTOP-SECRET-KEY-MATERIAL\n-----END PRIVATE KEY-----\n")

// sendParts sends parts in machine mode (the key in two chunks) and
// returns the SHA-256 of what was sent.
func sendParts(r *rig, parts Provision) string {
	h := sha256.New()
	for _, name := range provisionParts {
		b, ok := parts[name]
		if !ok {
			continue
		}
		for len(b) > 0 {
			n := min(len(b), 40)
			h.Write(b[:n])
			r.send("provision data " + name + " " + base64.StdEncoding.EncodeToString(b[:n]))
			r.expect(`{"ok":true}`)
			b = b[n:]
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestProvisionTransfer(t *testing.T) {
	parts := Provision{PartCreds: []byte("creds file"), PartKey: secretKey, PartConfig: []byte("signed config")}
	for _, tc := range []struct {
		name    string
		refuse  error  // the provisioner's answer
		sum     string // replaces the right checksum
		want    string // in the commit's answer
		reaches bool   // the provisioner is called
	}{
		{name: "ok", want: `{"committed":true,"parts":["creds","key","config"],"restart":true}`, reaches: true},
		{name: "wrong checksum", sum: strings.Repeat("00", 32), want: `{"error":"provision commit: checksum mismatch: received`},
		{name: "short checksum", sum: "abcd", want: `{"error":"provision commit: checksum \"abcd\": want 64 hex digits`},
		{name: "refused", refuse: errors.New("uplink.cert: sent, but the signed config names no cert file"), reaches: true,
			want: `{"error":"provision commit: uplink.cert: sent, but the signed config names no cert file"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prov := &fakeProvisioner{err: tc.refuse}
			r := newRig(t, func(o *Options) { o.Provision = prov })
			r.login("fab", r.fact)
			r.send("machine")
			r.expect(`{"ok":true}`)
			r.send("provision begin")
			r.expect(`{"text":"provision: send data`)
			sum := sendParts(r, parts)
			if tc.sum != "" {
				sum = tc.sum
			}
			r.send("provision commit " + sum + " --json")
			if got := r.expectLine(`{"`); !strings.HasPrefix(got, tc.want) {
				t.Errorf("commit: %q, want %q…", got, tc.want)
			}
			if got := prov.received(); tc.reaches != (got != nil) || tc.reaches && !maps.EqualFunc(got, parts, func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Errorf("the provisioner got %q, want it reached: %t", got, tc.reaches)
			}
			// The transfer is over either way.
			r.send("provision commit " + sum)
			r.expect(`{"error":"provision commit: no transfer: send provision begin first"}`)
			r.mu.Lock()
			out := string(r.out)
			r.mu.Unlock()
			for _, where := range []string{out, r.auditLog()} {
				if strings.Contains(where, "TOP-SECRET") || strings.Contains(where, base64.StdEncoding.EncodeToString(secretKey[:30])) {
					t.Errorf("key material sent or logged: %q", where)
				}
			}
		})
	}
}

func TestProvisionRefusals(t *testing.T) {
	prov := &fakeProvisioner{}
	r := newRig(t, func(o *Options) { o.Provision = prov })
	r.login("alice", r.tech)
	r.send("provision begin")
	r.expect("error: provision: needs the factory role; alice has technician")
	r.send("quit")
	r.login("fab", r.fact)
	for _, tc := range []struct{ line, want string }{
		// A terminal echoes and keeps history: no key material typed there.
		{"provision begin", "provision: send data"},
		{"provision data key " + base64.StdEncoding.EncodeToString([]byte("x")), "error: provision data: machine mode only"},
		{"provision commit " + strings.Repeat("00", 32), "error: provision commit: no transfer"},
		{"provision begin", "provision: send data"},
		{"provision abort", "provision: transfer aborted"},
		{"provision data key eA==", "error: provision data: machine mode only"},
		{"provision frobnicate", `error: provision: "frobnicate": want begin, data, commit or abort`},
	} {
		r.send(tc.line)
		if got := r.expectLine("error:", "provision:"); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q…", tc.line, got, tc.want)
		}
	}
	r.send("machine")
	r.expect(`{"ok":true}`)
	r.send("provision begin")
	r.expect(`{"text":`)
	for _, tc := range []struct{ line, want string }{
		{"provision data pin eA==", `{"error":"provision data: part \"pin\": want one of creds, ca, cert, key, config"}`},
		{"provision data key !!!!", `{"error":"provision data key: not standard base64`},
		{"provision data key", `{"error":"provision data: want PART BASE64`},
	} {
		r.send(tc.line)
		if got := r.expectLine(`{"`); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q…", tc.line, got, tc.want)
		}
	}
	if prov.received() != nil {
		t.Error("the provisioner was called")
	}
}

func TestProvisionOnProvisionedKiosk(t *testing.T) {
	r := newRig(t) // no Provisioner: the kiosk is provisioned
	r.login("fab", r.fact)
	r.send("provision begin")
	r.expect("error: provision begin: this kiosk is provisioned")
}

func TestAuditArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"provision", []string{"data", "key", "c2VjcmV0"}, "data key"},
		{"provision", []string{"commit", "ab"}, "commit ab"},
		{"logs", []string{"20"}, "20"},
		{"sim", []string{`{"insert_card":"4539578763621486"}`}, `{"insert_card":"[redacted]"}`},
	} {
		if got := auditArgs(tc.name, tc.args); got != tc.want {
			t.Errorf("auditArgs(%s, %q) = %q, want %q", tc.name, tc.args, got, tc.want)
		}
	}
}
