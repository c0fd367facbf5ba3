package console

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
)

// Provisioner installs what a factory station sent: it verifies every part
// and writes them, or refuses the lot with an error naming the part or the
// field. palmd has one only while the kiosk is not provisioned.
type Provisioner interface {
	Provision(ctx context.Context, p Provision) error
}

// Provision is one transfer's parts, by name (PartCreds, …); a part not
// sent is absent. The Provisioner must not keep the slices: they are
// zeroed once it returns.
type Provision map[string][]byte

// The parts of a transfer.
const (
	PartCreds  = "creds"  // the NATS credentials file (uplink.creds)
	PartCA     = "ca"     // the server's CA (uplink.ca)
	PartCert   = "cert"   // the client certificate (uplink.cert)
	PartKey    = "key"    // the client key (uplink.key)
	PartConfig = "config" // the config document in the release keys' signed envelope
)

var provisionParts = []string{PartCreds, PartCA, PartCert, PartKey, PartConfig}

// MaxProvision bounds the bytes of one transfer, every part together.
const MaxProvision = 512 << 10

// ProvisionChunk is the most base64 characters palmctl sends in one
// provision data line (a line is at most MaxLine).
const ProvisionChunk = 900

// transfer is a provision begin … commit under way in one session.
type transfer struct {
	parts Provision
	sum   hash.Hash // of every decoded chunk, in the order received
	size  int
}

// zero clears every part received.
func (t *transfer) zero() {
	if t == nil {
		return
	}
	for _, b := range t.parts {
		clear(b)
	}
	t.parts = nil
}

// auditArgs is what the audit log keeps of a command's arguments: of
// provision only the subcommand and the part, never the data.
func auditArgs(name string, args []string) string {
	if name == "provision" && len(args) > 2 {
		args = args[:2]
	}
	return Redact(strings.Join(args, " "))
}

type provisionResult struct {
	Provisioned bool     `json:"provisioned"`
	Missing     []string `json:"missing"`
}

func (p provisionResult) text() string {
	if p.Provisioned {
		return "provisioned"
	}
	return "not provisioned; missing " + strings.Join(p.Missing, ", ")
}

type committed struct {
	Committed bool     `json:"committed"`
	Parts     []string `json:"parts"`
	Restart   bool     `json:"restart"`
}

func (c committed) text() string {
	return "provisioned " + strings.Join(c.Parts, ", ") + "; palmd restarts into the new config"
}

const provisionUsage = "provision [begin | data PART BASE64 | commit SHA256 | abort]"

// cmdProvision reports what is missing (no argument) or runs one step of a
// transfer: begin, data PART BASE64 (machine mode only: a terminal echoes
// and keeps history), commit SHA256 (hex, of every decoded chunk in the
// order sent), abort.
func cmdProvision(ctx context.Context, ss *session, args []string) (result, error) {
	if len(args) == 0 {
		res := provisionResult{Missing: []string{}}
		if ss.srv.o.Missing != nil {
			res.Missing = append(res.Missing, ss.srv.o.Missing()...)
		}
		res.Provisioned = len(res.Missing) == 0
		return res, nil
	}
	p := ss.srv.o.Provision
	switch args[0] {
	case "begin":
		if err := wantArgs("provision", args, 1); err != nil {
			return nil, err
		}
		if p == nil {
			return nil, errors.New("provision begin: this kiosk is provisioned (its config changes only by signed config from the cloud)")
		}
		ss.prov.zero()
		ss.prov = &transfer{parts: Provision{}, sum: sha256.New()}
		return text{"provision: send data PART BASE64 lines (parts " + strings.Join(provisionParts, ", ") + "), then commit SHA256"}, nil
	case "data":
		if len(args) != 3 {
			return nil, fmt.Errorf("provision data: want PART BASE64 (usage: %s)", provisionUsage)
		}
		if !ss.machine {
			ss.prov.zero()
			ss.prov = nil
			return nil, errors.New("provision data: machine mode only (a terminal echoes what is typed); transfer aborted")
		}
		t := ss.prov
		if t == nil {
			return nil, errors.New("provision data: no transfer: send provision begin first")
		}
		part := args[1]
		if !slices.Contains(provisionParts, part) {
			return nil, fmt.Errorf("provision data: part %q: want one of %s", part, strings.Join(provisionParts, ", "))
		}
		b, err := base64.StdEncoding.DecodeString(args[2])
		if err != nil {
			return nil, fmt.Errorf("provision data %s: not standard base64: %w", part, err)
		}
		defer clear(b)
		if t.size+len(b) > MaxProvision {
			ss.prov.zero()
			ss.prov = nil
			return nil, fmt.Errorf("provision data %s: the transfer exceeds %d bytes; transfer aborted", part, MaxProvision)
		}
		t.size += len(b)
		t.sum.Write(b)
		t.parts[part] = append(t.parts[part], b...)
		return nil, nil
	case "commit":
		if err := wantArgs("provision", args, 2); err != nil {
			return nil, err
		}
		t := ss.prov
		if t == nil {
			return nil, errors.New("provision commit: no transfer: send provision begin first")
		}
		ss.prov = nil
		defer t.zero()
		want, err := hex.DecodeString(args[1])
		if err != nil || len(want) != sha256.Size {
			return nil, fmt.Errorf("provision commit: checksum %q: want %d hex digits (SHA-256); transfer aborted", args[1], 2*sha256.Size)
		}
		if got := t.sum.Sum(nil); !slices.Equal(got, want) {
			return nil, fmt.Errorf("provision commit: checksum mismatch: received %d bytes hashing to %x; transfer aborted", t.size, got)
		}
		if p == nil {
			return nil, errors.New("provision commit: this kiosk is provisioned")
		}
		if err := p.Provision(ctx, t.parts); err != nil {
			ss.srv.o.Audit.Warn("console provision refused", "user", ss.user.Name, "err", err)
			return nil, fmt.Errorf("provision commit: %w", err)
		}
		var sent []string
		for _, name := range provisionParts {
			if _, ok := t.parts[name]; ok {
				sent = append(sent, name)
			}
		}
		ss.srv.o.Audit.Info("console provisioned", "user", ss.user.Name, "parts", sent)
		return committed{Committed: true, Parts: sent, Restart: true}, nil
	case "abort":
		ss.prov.zero()
		ss.prov = nil
		return text{"provision: transfer aborted"}, nil
	}
	return nil, fmt.Errorf("provision: %q: want begin, data, commit or abort (usage: %s)", args[0], provisionUsage)
}
