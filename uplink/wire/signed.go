package wire

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// signContext separates palmd signatures from any other use of the key
// (Ed25519ctx, RFC 8032).
const signContext = "palmd uplink v1"

// ErrBadSignature reports a Signed envelope whose signature does not verify.
var ErrBadSignature = errors.New("wire: bad signature")

// Kind says what a Statement carries.
type Kind string

// The statement kinds.
const (
	KindDecision Kind = "decision"
	KindCommand  Kind = "command"
)

// Statement is what the cloud signs: a decision or a command for one device,
// with a fresh random nonce and a validity window.
type Statement struct {
	Kind   Kind   `json:"kind"`
	Device string `json:"device"`
	// Nonce is 128 random bits, hex; the device rejects a nonce it has seen.
	Nonce    string    `json:"nonce"`
	IssuedAt time.Time `json:"iat"`
	Expires  time.Time `json:"exp"`
	Decision *Decision `json:"decision,omitempty"`
	Command  *Command  `json:"command,omitempty"`
}

// Signed is the envelope on the wire: the exact statement bytes and their
// Ed25519ctx signature.
type Signed struct {
	Payload []byte `json:"payload"`
	Sig     []byte `json:"sig"`
}

// NewNonce returns 128 random bits as 32 hex characters.
func NewNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Validate checks the structure of s (not its freshness: see uplink).
func (s Statement) Validate() error {
	if !validID(s.Device) || !isHex(s.Nonce, 32) || s.IssuedAt.IsZero() || !s.Expires.After(s.IssuedAt) {
		return fmt.Errorf("%w: statement header", ErrMalformed)
	}
	switch s.Kind {
	case KindDecision:
		if s.Decision == nil || s.Command != nil || !validID(s.Decision.Request) || !s.Decision.Outcome.Valid() ||
			len(s.Decision.Subject) > maxID || len(s.Decision.Reason) > maxID || len(s.Decision.Reference) > maxID {
			return fmt.Errorf("%w: decision", ErrMalformed)
		}
	case KindCommand:
		if s.Command == nil || s.Decision != nil {
			return fmt.Errorf("%w: command", ErrMalformed)
		}
		return s.Command.Validate()
	default:
		return fmt.Errorf("%w: kind", ErrMalformed)
	}
	return nil
}

// Sign encodes and signs s with the cloud's key.
func Sign(key ed25519.PrivateKey, s Statement) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	sig, err := key.Sign(nil, payload, &ed25519.Options{Context: signContext})
	if err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	return json.Marshal(Signed{Payload: payload, Sig: sig})
}

// Verify strictly decodes a Signed envelope, checks its signature against
// key and returns the statement. Freshness, device and replay checks belong
// to the caller, which knows the clock and the nonces already seen.
func Verify(key ed25519.PublicKey, b []byte) (Statement, error) {
	var env Signed
	if err := decodeStrict(b, MaxSigned, &env); err != nil {
		return Statement{}, err
	}
	if len(key) != ed25519.PublicKeySize {
		return Statement{}, fmt.Errorf("wire: verify key has %d bytes", len(key))
	}
	opts := &ed25519.Options{Hash: crypto.Hash(0), Context: signContext}
	if len(env.Sig) != ed25519.SignatureSize || ed25519.VerifyWithOptions(key, env.Payload, env.Sig, opts) != nil {
		return Statement{}, ErrBadSignature
	}
	var s Statement
	if err := decodeStrict(env.Payload, MaxSigned, &s); err != nil {
		return Statement{}, err
	}
	if err := s.Validate(); err != nil {
		return Statement{}, err
	}
	return s, nil
}
