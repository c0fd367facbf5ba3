package wire

import (
	"encoding/hex"
	"fmt"
)

// CommandType names a cloud→device command.
type CommandType string

// The commands the cloud sends to a kiosk.
const (
	// CmdDeleteMyData asks the kiosk to forget anything it holds about a
	// subject (local caches, pending telemetry) after the cloud deleted the
	// enrolment.
	CmdDeleteMyData CommandType = "delete_my_data"
	// CmdConfig carries a new signed device configuration document.
	CmdConfig CommandType = "config"
	// CmdUpdate names a firmware bundle in the cloud's object store.
	CmdUpdate CommandType = "update"
)

// MaxConfig bounds the signed configuration document a CmdConfig carries
// (the secureboot envelope: its header and the config JSON).
const MaxConfig = 24 << 10

// Command is a cloud→device instruction. It travels inside a signed Statement.
type Command struct {
	Type CommandType `json:"type"`
	// Seq is the command's place in the cloud's sequence for this device,
	// from 1 upwards (with gaps); the device refuses a command whose Seq is
	// not above the last one it accepted, across restarts.
	Seq uint64 `json:"seq"`
	// Subject is the pseudonym CmdDeleteMyData refers to.
	Subject string `json:"subject,omitempty"`
	// Config is the signed configuration document of CmdConfig: a
	// secureboot envelope of kind "config" (base64 in JSON).
	Config []byte `json:"config,omitempty"`
	// Update describes the bundle of CmdUpdate.
	Update *Update `json:"update,omitempty"`
}

// Update names a firmware bundle stored in the JetStream object store
// BundleBucket.
type Update struct {
	// Object names the bundle in the cloud's object store BundleBucket.
	Object string `json:"object"`
	// Version is the bundle's anti-rollback version and Release its human
	// name, as its signed manifest says; the manifest decides, these let a
	// kiosk refuse an older bundle without fetching it.
	Version uint64 `json:"version"`
	Release string `json:"release"`
	// Size is the bundle's length in bytes and SHA256 its digest (hex) as
	// stored: the kiosk refuses any other bytes.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// MaxBundle bounds the bundle an update names (4 GiB).
const MaxBundle = 4 << 30

// Validate checks that c carries exactly what its type needs.
func (c Command) Validate() error {
	ok := c.Seq > 0
	switch c.Type {
	case CmdDeleteMyData:
		ok = ok && validID(c.Subject) && c.Config == nil && c.Update == nil
	case CmdConfig:
		ok = ok && c.Subject == "" && len(c.Config) > 0 && len(c.Config) <= MaxConfig && c.Update == nil
	case CmdUpdate:
		u := c.Update
		ok = ok && c.Subject == "" && c.Config == nil && u != nil && validToken(u.Object) &&
			u.Version > 0 && (u.Release == "" || printable(u.Release, maxID)) && u.Size > 0 && u.Size <= MaxBundle && isHex(u.SHA256, 64)
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("%w: command", ErrMalformed)
	}
	return nil
}

// validToken accepts 1..maxID characters of A-Z a-z 0-9 '_' '-' and '.':
// object names.
func validToken(s string) bool {
	if len(s) == 0 || len(s) > maxID {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// isHex reports whether s is n hex digits.
func isHex(s string, n int) bool {
	_, err := hex.DecodeString(s)
	return len(s) == n && err == nil
}

// BundleRequest asks the cloud, on BundleSubject, for the bytes of the
// bundle Object an update command named, from its chunk at or after stream
// sequence From (0: its first). The reply's data is the next whole chunks,
// at most MaxBundleReply bytes; its BundleNextHeader says where to ask
// from next and is absent once the reply ends the bundle. A reply with a
// BundleErrorHeader carries no bytes; when the error is BundleUnavailable
// it passes (a server restarting, a stream leader being elected), and the
// same request may be sent again.
type BundleRequest struct {
	Object string `json:"object"`
	From   uint64 `json:"from,omitempty"`
}

// The headers of a bundle reply, and the most bytes it carries.
const (
	BundleNextHeader  = "Palm-Bundle-Next"
	BundleErrorHeader = "Palm-Bundle-Error"
	MaxBundleReply    = 512 << 10
	// BundleUnavailable is the BundleErrorHeader of a failure that passes:
	// the cloud could not read its bucket just then.
	BundleUnavailable = "bundle bucket unavailable"
)

// maxBundleRequest bounds an encoded BundleRequest.
const maxBundleRequest = 512

// DecodeBundleRequest decodes and validates a BundleRequest.
func DecodeBundleRequest(b []byte) (BundleRequest, error) {
	var r BundleRequest
	if err := decodeStrict(b, maxBundleRequest, &r); err != nil {
		return BundleRequest{}, err
	}
	if !validToken(r.Object) {
		return BundleRequest{}, fmt.Errorf("%w: bundle request: object: want 1 to %d characters from A-Z, a-z, 0-9, '_', '-' and '.'", ErrMalformed, maxID)
	}
	return r, nil
}
