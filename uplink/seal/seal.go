package seal

import (
	"crypto/hpke"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

// The suite: X-Wing (ML-KEM-768 + X25519) hybrid KEM, HKDF-SHA256,
// ChaCha20-Poly1305. See the package documentation for why.
var (
	kem  = hpke.MLKEM768X25519()
	kdf  = hpke.HKDFSHA256()
	aead = hpke.ChaCha20Poly1305()
)

// info binds every sealed message to this protocol and version.
var info = []byte("palmd seal v1")

// encSize is the length of the X-Wing encapsulated key that starts every
// sealed message (ML-KEM-768 ciphertext 1088 + X25519 share 32).
const encSize = 1120

// Overhead is how many bytes sealing adds to a plaintext.
const Overhead = encSize + 16

// Parts of a request that are sealed.
const (
	PartPalm  = "palm"
	PartPhone = "phone"
	PartCard  = "card"
)

// ErrOpen reports a sealed message that does not open: wrong key, wrong
// context, or tampered bytes. It says no more, by design.
var ErrOpen = errors.New("seal: cannot open")

// Context is the capture context bound to a sealed message as associated
// data: a message sealed for one request, part or device does not open under
// another.
type Context struct {
	Device  string
	Request string
	Time    time.Time
	Flow    wire.Flow
	Part    string
}

// ContextOf returns the context of part of request r.
func ContextOf(r wire.Request, part string) Context {
	return Context{Device: r.Device, Request: r.ID, Time: r.Time, Flow: r.Flow, Part: part}
}

// aad encodes c unambiguously: each field length-prefixed, time in Unix
// nanoseconds.
func (c Context) aad() []byte {
	b := make([]byte, 0, 96)
	for _, s := range []string{c.Device, c.Request, string(c.Flow), c.Part} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixNano()))
}

// Sealer seals to the cloud's public key. It is safe for concurrent use.
type Sealer struct {
	pk hpke.PublicKey
}

// NewSealer returns a Sealer for the serialized public key publicKey.
func NewSealer(publicKey []byte) (*Sealer, error) {
	pk, err := kem.NewPublicKey(publicKey)
	if err != nil {
		return nil, fmt.Errorf("seal: public key: %w", err)
	}
	return &Sealer{pk: pk}, nil
}

// Seal encrypts plaintext for the key holder, bound to c. The result is the
// encapsulated key followed by the ciphertext. Each call uses a fresh HPKE
// context, so two seals of the same plaintext differ.
func (s *Sealer) Seal(c Context, plaintext []byte) ([]byte, error) {
	enc, snd, err := hpke.NewSender(s.pk, kdf, aead, info)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := make([]byte, len(enc), len(enc)+len(plaintext)+16)
	copy(out, enc)
	ct, err := snd.Seal(c.aad(), plaintext)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return append(out, ct...), nil
}

// Opener opens messages sealed to its private key. It is safe for
// concurrent use.
type Opener struct {
	sk hpke.PrivateKey
}

// NewOpener returns an Opener for the serialized private key privateKey.
func NewOpener(privateKey []byte) (*Opener, error) {
	sk, err := kem.NewPrivateKey(privateKey)
	if err != nil {
		return nil, fmt.Errorf("seal: private key: %w", err)
	}
	return &Opener{sk: sk}, nil
}

// PublicKey returns the serialized public key matching the Opener.
func (o *Opener) PublicKey() []byte { return o.sk.PublicKey().Bytes() }

// Open decrypts sealed if it was sealed to this key under c; otherwise it
// returns ErrOpen.
func (o *Opener) Open(c Context, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrOpen
	}
	rcp, err := hpke.NewRecipient(sealed[:encSize], o.sk, kdf, aead, info)
	if err != nil {
		return nil, ErrOpen
	}
	pt, err := rcp.Open(c.aad(), sealed[encSize:])
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// GenerateKey returns a new key pair, serialized: the public key for
// NewSealer and the private key (a 32-byte seed) for NewOpener.
func GenerateKey() (public, private []byte, err error) {
	sk, err := kem.GenerateKey()
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	private, err = sk.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	return sk.PublicKey().Bytes(), private, nil
}
