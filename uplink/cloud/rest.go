package cloud

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// record is one enrolment as stored: the templates kept of its palms (one
// to maxPalms: up to three captures of each of two palms), the keyed
// tokens of phone and card, never the clear numbers, and the birth date on
// file, if any (the age flow). Sealed, it is the templates
// (match.Template.MarshalBinary) followed by the two tokens and, when
// there is a birth date, its Unix time (8 bytes, big-endian): a record of
// one template and no birth date is laid out as records were before
// enrolments kept several, so older records open unchanged.
type record struct {
	palms       []match.Template
	phone, card [32]byte
	born        time.Time
}

// maxPalms is how many templates an enrolment holds at most.
const maxPalms = wire.MaxEnrolCaptures

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
	var pt []byte
	for _, t := range r.palms {
		b, _ := t.MarshalBinary()
		pt = append(pt, b...)
		clear(b)
	}
	pt = append(pt, r.phone[:]...)
	pt = append(pt, r.card[:]...)
	if !r.born.IsZero() {
		pt = binary.BigEndian.AppendUint64(pt, uint64(r.born.Unix()))
	}
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
	defer clear(pt) // the whole of it: pt is shortened below
	var r record
	if len(pt) >= 64+8 && (len(pt)-64)%templateLen == 8 {
		r.born = time.Unix(int64(binary.BigEndian.Uint64(pt[len(pt)-8:])), 0).UTC()
		pt = pt[:len(pt)-8]
	}
	n = (len(pt) - 64) / templateLen
	if len(pt) < 64 || (len(pt)-64)%templateLen != 0 || n < 1 || n > maxPalms {
		return record{}, fmt.Errorf("cloud: stored enrolment has the wrong length: want 1 to %d templates, two tokens and perhaps a birth date", maxPalms)
	}
	r.palms = make([]match.Template, n)
	for i := range r.palms {
		if err := r.palms[i].UnmarshalBinary(pt[i*templateLen : (i+1)*templateLen]); err != nil {
			return record{}, err
		}
	}
	copy(r.phone[:], pt[n*templateLen:])
	copy(r.card[:], pt[n*templateLen+32:])
	return r, nil
}
