package console

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
)

// Role is what a technician's key may do.
type Role string

// Roles. A factory key may do everything a technician's may, and provision.
const (
	RoleTechnician Role = "technician"
	RoleFactory    Role = "factory"
)

// Key is one allowed technician key.
type Key struct {
	Name string // who holds it; the login name
	Role Role
	Pub  ed25519.PublicKey
}

// ParseKeys reads allowed keys, one a line: role, the base64 Ed25519 public
// key and the holder's name ("technician MCowBQ… alice"). Blank lines and
// lines starting with # are skipped.
func ParseKeys(r io.Reader) ([]Key, error) {
	var keys []Key
	sc := bufio.NewScanner(r)
	names := map[string]bool{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("console keys: line %d: want 3 fields (role, base64 Ed25519 public key, name), have %d", n, len(f))
		}
		k := Key{Role: Role(f[0]), Name: f[2]}
		if k.Role != RoleTechnician && k.Role != RoleFactory {
			return nil, fmt.Errorf("console keys: line %d: role: %q: want %q or %q", n, f[0], RoleTechnician, RoleFactory)
		}
		pub, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("console keys: line %d: key: want %d bytes of base64 (an Ed25519 public key)", n, ed25519.PublicKeySize)
		}
		if names[k.Name] {
			return nil, fmt.Errorf("console keys: line %d: name %q: used twice", n, k.Name)
		}
		names[k.Name] = true
		k.Pub = pub
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("console keys: %w", err)
	}
	return keys, nil
}

// ChallengeSize is the length of a login challenge, in bytes.
const ChallengeSize = 32

// SignedMessage is what a client signs to log in: a fixed context, the
// device's id and the challenge, so that a signature is good for one
// login on one kiosk only.
func SignedMessage(deviceID string, challenge []byte) []byte {
	msg := []byte("palmd console login v1\x00" + deviceID + "\x00")
	return append(msg, challenge...)
}

// Lockout: after maxFailures failed logins in a row, logins are refused
// for firstDelay, and each further failure doubles it (up to maxDelay).
const (
	maxFailures = 5
	firstDelay  = 30 * time.Second
	maxDelay    = time.Hour
)

// limiter counts failed logins across every session of one server.
type limiter struct {
	failures int
	until    time.Time // no login before this
}

// wait is how long logins are still refused at now.
func (l *limiter) wait(now time.Time) time.Duration {
	if now.Before(l.until) {
		return l.until.Sub(now)
	}
	return 0
}

// fail records a failure at now.
func (l *limiter) fail(now time.Time) {
	l.failures++
	if l.failures < maxFailures {
		return
	}
	d := firstDelay
	for i := maxFailures; i < l.failures && d < maxDelay; i++ {
		d *= 2
	}
	l.until = now.Add(min(d, maxDelay))
}

func (l *limiter) succeed() { *l = limiter{} }
