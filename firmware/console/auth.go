package console

import (
	"crypto/ed25519"
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

// same reports whether a and b are the same key for the same holder and role.
func (a Key) same(b Key) bool {
	return a.Name == b.Name && a.Role == b.Role && a.Pub.Equal(b.Pub)
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
