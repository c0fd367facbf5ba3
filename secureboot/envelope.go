package secureboot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Sentinel errors; every error from this package that is one of these cases
// wraps the sentinel, so callers test with errors.Is.
var (
	ErrBadSignature   = errors.New("secureboot: bad signature")
	ErrRollback       = errors.New("secureboot: rollback")
	ErrDigestMismatch = errors.New("secureboot: digest mismatch")
	ErrTruncated      = errors.New("secureboot: truncated")
	ErrMalformed      = errors.New("secureboot: malformed")
	ErrWrongKind      = errors.New("secureboot: wrong kind")
	ErrWrongProduct   = errors.New("secureboot: wrong product")
)

// Magic opens every envelope.
const Magic = "PALMSIG1"

// SigningContext is prepended to the signed bytes, so a signature made for
// an envelope cannot be taken for one made by the same key for another use.
const SigningContext = "palmd secureboot envelope v1\x00"

// Limits of the envelope.
const (
	MaxManifestSize = 4 << 10  // bytes of manifest JSON
	MaxImageSize    = 16 << 30 // bytes of a firmware image (a root slot)
	MaxConfigSize   = 1 << 20  // bytes of a config document
	maxNameLen      = 64       // product and release strings
)

const headerLen = len(Magic) + 2

// Kind says what an envelope carries.
type Kind string

// The kinds of payload.
const (
	KindFirmware Kind = "firmware"
	KindConfig   Kind = "config"
	// KindRelease is a detached signature over the palmd executable of a
	// release: the header alone ships in the image, and the running binary
	// is its payload (see Policy.VerifyRelease).
	KindRelease Kind = "release"
)

// Manifest describes a payload; it is the signed part of an envelope.
type Manifest struct {
	Kind Kind `json:"kind"`
	// Product names the device family, e.g. "palmkiosk".
	Product string `json:"product"`
	// Version is the anti-rollback version: it only rises between releases.
	Version uint64 `json:"version"`
	// Release is the human version, e.g. "1.4.2"; informational.
	Release string `json:"release,omitempty"`
	// Size and SHA256 (lowercase hex) describe the payload.
	Size    int64     `json:"size"`
	SHA256  string    `json:"sha256"`
	Created time.Time `json:"created"`
}

func (m Manifest) validate() error {
	var limit int64
	switch m.Kind {
	case KindFirmware, KindRelease:
		limit = MaxImageSize
	case KindConfig:
		limit = MaxConfigSize
	default:
		return fmt.Errorf("%w: kind %q", ErrMalformed, m.Kind)
	}
	if err := checkName("product", m.Product, false); err != nil {
		return err
	}
	if err := checkName("release", m.Release, true); err != nil {
		return err
	}
	if m.Version == 0 {
		return fmt.Errorf("%w: version must be at least 1", ErrMalformed)
	}
	if m.Size < 1 || m.Size > limit {
		return fmt.Errorf("%w: size %d outside 1..%d", ErrMalformed, m.Size, limit)
	}
	if len(m.SHA256) != 2*sha256.Size {
		return fmt.Errorf("%w: sha256 must be %d hex digits", ErrMalformed, 2*sha256.Size)
	}
	for _, c := range m.SHA256 {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("%w: sha256 must be lowercase hex", ErrMalformed)
		}
	}
	if m.Created.IsZero() {
		return fmt.Errorf("%w: created is missing", ErrMalformed)
	}
	return nil
}

// checkName allows a-z, A-Z, 0-9 and ".-+_", up to maxNameLen characters.
func checkName(field, s string, mayBeEmpty bool) error {
	if s == "" && !mayBeEmpty || len(s) > maxNameLen {
		return fmt.Errorf("%w: %s must be 1..%d characters", ErrMalformed, field, maxNameLen)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '+' || c == '_') {
			return fmt.Errorf("%w: %s: only letters, digits and .-+_ are allowed", ErrMalformed, field)
		}
	}
	return nil
}

// parseManifest decodes manifest JSON strictly and validates every field.
func parseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := decodeStrict(b, &m, "manifest"); err != nil {
		return Manifest{}, err
	}
	if err := m.validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// decodeStrict decodes the JSON document b into v: unknown fields and
// trailing data are errors (ErrMalformed, naming what).
func decodeStrict(b []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: trailing data", ErrMalformed, what)
	}
	return nil
}

// Policy is what a device accepts: envelopes signed by one of Keys, for
// Product, with a version of at least MinVersion.
type Policy struct {
	Keys       []ed25519.PublicKey
	Product    string
	MinVersion uint64
}

// OpenBundle reads and authenticates a firmware bundle's header and returns
// a Bundle that streams the image. The image bytes are unverified until
// Bundle.Read returns io.EOF: write them only where they do no harm until
// then (the inactive slot).
func (p Policy) OpenBundle(r io.Reader) (*Bundle, error) {
	return p.open(r, KindFirmware)
}

// VerifyBundle reads a whole firmware bundle and returns its manifest if
// every check passes.
func (p Policy) VerifyBundle(r io.Reader) (Manifest, error) {
	b, err := p.OpenBundle(r)
	if err != nil {
		return Manifest{}, err
	}
	if _, err := io.Copy(io.Discard, b); err != nil {
		return Manifest{}, err
	}
	return b.Manifest(), nil
}

// VerifyRelease authenticates the running release: header is the detached
// release header shipped in the image, exe the palmd executable it signs.
// The manifest's version is the floor below which this device accepts no
// firmware, whatever its state file says.
func (p Policy) VerifyRelease(header, exe io.Reader) (Manifest, error) {
	b, err := p.open(io.MultiReader(header, exe), KindRelease)
	if err != nil {
		return Manifest{}, err
	}
	if _, err := io.Copy(io.Discard, b); err != nil {
		return Manifest{}, err
	}
	return b.Manifest(), nil
}

// VerifyConfig reads a signed config document and returns its manifest and
// payload (the config JSON) if every check passes.
func (p Policy) VerifyConfig(r io.Reader) (Manifest, []byte, error) {
	b, err := p.open(r, KindConfig)
	if err != nil {
		return Manifest{}, nil, err
	}
	payload, err := io.ReadAll(b)
	if err != nil {
		return Manifest{}, nil, err
	}
	return b.Manifest(), payload, nil
}

func (p Policy) open(r io.Reader, kind Kind) (*Bundle, error) {
	if p.Product == "" {
		return nil, errors.New("secureboot: policy names no product")
	}
	hdr := make([]byte, headerLen, headerLen+MaxManifestSize)
	if err := readFull(r, hdr, "header"); err != nil {
		return nil, err
	}
	if string(hdr[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: not an envelope (bad magic)", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(hdr[len(Magic):]))
	if n < 1 || n > MaxManifestSize {
		return nil, fmt.Errorf("%w: manifest length %d outside 1..%d", ErrMalformed, n, MaxManifestSize)
	}
	signed := hdr[:headerLen+n]
	if err := readFull(r, signed[headerLen:], "manifest"); err != nil {
		return nil, err
	}
	sig := make([]byte, ed25519.SignatureSize)
	if err := readFull(r, sig, "signature"); err != nil {
		return nil, err
	}
	if !verifyAny(p.Keys, signedMessage(signed), sig) {
		return nil, ErrBadSignature
	}
	m, err := parseManifest(signed[headerLen:])
	if err != nil {
		return nil, err
	}
	if m.Kind != kind {
		return nil, fmt.Errorf("%w: got %s, want %s", ErrWrongKind, m.Kind, kind)
	}
	if m.Product != p.Product {
		return nil, fmt.Errorf("%w: got %q, want %q", ErrWrongProduct, m.Product, p.Product)
	}
	if m.Version < p.MinVersion {
		return nil, fmt.Errorf("%w: version %d is older than the minimum %d", ErrRollback, m.Version, p.MinVersion)
	}
	return &Bundle{m: m, src: r, h: sha256.New()}, nil
}

func readFull(r io.Reader, b []byte, what string) error {
	_, err := io.ReadFull(r, b)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s", ErrTruncated, what)
	case err != nil:
		return fmt.Errorf("secureboot: reading %s: %w", what, err)
	}
	return nil
}

func signedMessage(header []byte) []byte {
	return append([]byte(SigningContext), header...)
}

func verifyAny(keys []ed25519.PublicKey, msg, sig []byte) bool {
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig) {
			return true
		}
	}
	return false
}

// Bundle streams an authenticated envelope's payload. Read hashes as it
// goes; at the end of the payload it returns io.EOF only if the length and
// digest match the manifest and nothing follows, and otherwise
// ErrTruncated, ErrDigestMismatch or ErrMalformed.
type Bundle struct {
	m   Manifest
	src io.Reader
	h   hash.Hash
	n   int64
	err error // sticky: the result once the payload has ended or failed
}

// Manifest returns the authenticated manifest.
func (b *Bundle) Manifest() Manifest { return b.m }

// Read reads payload bytes; see Bundle.
func (b *Bundle) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	rem := b.m.Size - b.n
	if rem == 0 {
		b.err = b.finish()
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.src.Read(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	switch {
	case errors.Is(err, io.EOF) && b.n < b.m.Size:
		b.err = fmt.Errorf("%w: payload has %d of %d bytes", ErrTruncated, b.n, b.m.Size)
		return n, b.err
	case err != nil && !errors.Is(err, io.EOF):
		b.err = fmt.Errorf("secureboot: reading payload: %w", err)
		return n, b.err
	}
	return n, nil
}

func (b *Bundle) finish() error {
	var one [1]byte
	n, err := io.ReadFull(b.src, one[:])
	if n > 0 {
		return fmt.Errorf("%w: data after the payload", ErrMalformed)
	}
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("secureboot: reading payload: %w", err)
	}
	if hex.EncodeToString(b.h.Sum(nil)) != b.m.SHA256 {
		return ErrDigestMismatch
	}
	return io.EOF
}

// SignBundle writes a firmware bundle for image to w. The caller fills in
// m's Product, Version, Release and Created; SignBundle sets Kind, Size and
// SHA256 and returns the manifest it signed. The image is read twice (once to
// hash it, once to copy it) and never held in memory; if it changes between
// the two passes the output is unusable and an error is returned.
func SignBundle(w io.Writer, key ed25519.PrivateKey, m Manifest, image io.ReadSeeker) (Manifest, error) {
	m, err := signHeader(w, key, m, KindFirmware, image)
	if err != nil {
		return Manifest{}, err
	}
	if _, err := image.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, fmt.Errorf("secureboot: rewinding image: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), image)
	if err != nil {
		return Manifest{}, fmt.Errorf("secureboot: copying image: %w", err)
	}
	if n != m.Size || hex.EncodeToString(h.Sum(nil)) != m.SHA256 {
		return Manifest{}, errors.New("secureboot: image changed while it was being signed")
	}
	return m, nil
}

// SignRelease writes the detached release header for exe, the release's
// palmd executable, to w: an envelope of kind release without its payload.
// The image carries the header; the running binary is the payload, so the
// header can neither be moved to another binary nor be rewritten.
func SignRelease(w io.Writer, key ed25519.PrivateKey, m Manifest, exe io.ReadSeeker) (Manifest, error) {
	return signHeader(w, key, m, KindRelease, exe)
}

// signHeader hashes payload from its start and writes the signed header.
func signHeader(w io.Writer, key ed25519.PrivateKey, m Manifest, kind Kind, payload io.ReadSeeker) (Manifest, error) {
	if _, err := payload.Seek(0, io.SeekStart); err != nil {
		return Manifest{}, fmt.Errorf("secureboot: rewinding image: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, payload)
	if err != nil {
		return Manifest{}, fmt.Errorf("secureboot: hashing image: %w", err)
	}
	m.Kind, m.Size, m.SHA256 = kind, size, hex.EncodeToString(h.Sum(nil))
	m.Created = m.Created.UTC().Round(0)
	if err := writeHeader(w, key, m); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// SignConfig writes a signed config envelope for payload (a JSON document)
// to w, like SignBundle.
func SignConfig(w io.Writer, key ed25519.PrivateKey, m Manifest, payload []byte) (Manifest, error) {
	if !json.Valid(payload) {
		return Manifest{}, fmt.Errorf("%w: config payload is not JSON", ErrMalformed)
	}
	sum := sha256.Sum256(payload)
	m.Kind, m.Size, m.SHA256 = KindConfig, int64(len(payload)), hex.EncodeToString(sum[:])
	m.Created = m.Created.UTC().Round(0)
	if err := writeHeader(w, key, m); err != nil {
		return Manifest{}, err
	}
	if _, err := w.Write(payload); err != nil {
		return Manifest{}, fmt.Errorf("secureboot: writing config: %w", err)
	}
	return m, nil
}

func writeHeader(w io.Writer, key ed25519.PrivateKey, m Manifest) error {
	if len(key) != ed25519.PrivateKeySize {
		return errors.New("secureboot: signing key is not an Ed25519 private key")
	}
	if err := m.validate(); err != nil {
		return err
	}
	js, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("secureboot: encoding manifest: %w", err)
	}
	if len(js) > MaxManifestSize {
		return fmt.Errorf("%w: manifest is %d bytes, limit %d", ErrMalformed, len(js), MaxManifestSize)
	}
	hdr := make([]byte, 0, headerLen+len(js)+ed25519.SignatureSize)
	hdr = append(hdr, Magic...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(js)))
	hdr = append(hdr, js...)
	hdr = append(hdr, ed25519.Sign(key, signedMessage(hdr))...)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("secureboot: writing header: %w", err)
	}
	return nil
}
