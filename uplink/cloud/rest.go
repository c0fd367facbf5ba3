package cloud

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/palmd/palmd/vision/match"
)

// record is one enrolment as stored: the template and the keyed tokens of
// phone and card, never the clear numbers.
type record struct {
	tmpl        match.Template
	phone, card [32]byte
}

const templateLen = 389 // match.Template.MarshalBinary

// atRest seals enrolment records for the store with AES-256-GCM under a key
// derived from the cloud's signing key; the subject is the associated
// data, so a record moved to another subject does not open.
type atRest struct{ aead cipher.AEAD }

func newAtRest(secret []byte) (*atRest, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, "palmcloud enrolment at rest v1", 32)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cloud: %w", err)
	}
	return &atRest{aead: aead}, nil
}

func aad(subject string) []byte { return []byte("palmcloud enrolment v1 " + subject) }

// seal returns nonce || ciphertext of r.
func (a *atRest) seal(subject string, r record) []byte {
	pt, _ := r.tmpl.MarshalBinary()
	pt = append(pt, r.phone[:]...)
	pt = append(pt, r.card[:]...)
	defer clear(pt)
	out := make([]byte, a.aead.NonceSize(), a.aead.NonceSize()+len(pt)+a.aead.Overhead())
	rand.Read(out)
	return a.aead.Seal(out, out, pt, aad(subject))
}

// open reverses seal.
func (a *atRest) open(subject string, b []byte) (record, error) {
	n := a.aead.NonceSize()
	if len(b) < n {
		return record{}, errors.New("cloud: stored enrolment too short")
	}
	pt, err := a.aead.Open(nil, b[:n], b[n:], aad(subject))
	if err != nil {
		return record{}, fmt.Errorf("cloud: stored enrolment does not open: %w", err)
	}
	defer clear(pt)
	if len(pt) != templateLen+64 {
		return record{}, errors.New("cloud: stored enrolment has the wrong length")
	}
	var r record
	if err := r.tmpl.UnmarshalBinary(pt[:templateLen]); err != nil {
		return record{}, err
	}
	copy(r.phone[:], pt[templateLen:])
	copy(r.card[:], pt[templateLen+32:])
	return r, nil
}
