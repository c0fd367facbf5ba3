package secureboot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const testProduct = "palmkiosk"

var testCreated = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// testKey returns a deterministic key; seed tells keys apart.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func testPolicy(min uint64) Policy {
	return Policy{Keys: []ed25519.PublicKey{testKey(1).Public().(ed25519.PublicKey)}, Product: testProduct, MinVersion: min}
}

func testImage(n int) []byte {
	img := make([]byte, n)
	for i := range img {
		img[i] = byte(i*7 + i/251)
	}
	return img
}

func signBundle(t testing.TB, key ed25519.PrivateKey, version uint64, image []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := Manifest{Product: testProduct, Version: version, Release: "1.0.0", Created: testCreated}
	if _, err := SignBundle(&buf, key, m, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func signConfig(t testing.TB, key ed25519.PrivateKey, version uint64, payload string) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := Manifest{Product: testProduct, Version: version, Created: testCreated}
	if _, err := SignConfig(&buf, key, m, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signRaw signs arbitrary manifest bytes followed by payload, to build
// envelopes that SignBundle would refuse to make.
func signRaw(key ed25519.PrivateKey, manifest string, payload []byte) []byte {
	hdr := append([]byte(Magic), 0, 0)
	binary.BigEndian.PutUint16(hdr[len(Magic):], uint16(len(manifest)))
	hdr = append(hdr, manifest...)
	hdr = append(hdr, ed25519.Sign(key, signedMessage(hdr))...)
	return append(hdr, payload...)
}

func rawManifest(payload []byte, extra string) string {
	sum := sha256.Sum256(payload)
	return `{"kind":"firmware","product":"palmkiosk","version":3,"size":` + strconv.Itoa(len(payload)) +
		`,"sha256":"` + hex.EncodeToString(sum[:]) + `","created":"2026-11-24T12:00:00Z"` + extra + `}`
}

func TestVerifyBundle(t *testing.T) {
	img := testImage(1000)
	good := signBundle(t, testKey(1), 5, img)
	hdrEnd := len(good) - len(img) // start of the payload
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	sum := sha256.Sum256(img)
	wrongDigest := strings.Replace(rawManifest(img, ""), hex.EncodeToString(sum[:]), strings.Repeat("0", 64), 1)
	tests := []struct {
		name   string
		in     []byte
		policy Policy
		want   error // nil: accepted
	}{
		{"good", good, testPolicy(0), nil},
		{"version equal to minimum", good, testPolicy(5), nil},
		{"rollback", good, testPolicy(6), ErrRollback},
		{"unknown key", signBundle(t, testKey(2), 5, img), testPolicy(0), ErrBadSignature},
		{"no trusted keys", good, Policy{Product: testProduct}, ErrBadSignature},
		{"second trusted key", signBundle(t, testKey(2), 5, img), Policy{Product: testProduct, Keys: []ed25519.PublicKey{
			testKey(1).Public().(ed25519.PublicKey), testKey(2).Public().(ed25519.PublicKey)}}, nil},
		{"wrong product", good, Policy{Keys: testPolicy(0).Keys, Product: "other"}, ErrWrongProduct},
		{"config as bundle", signConfig(t, testKey(1), 5, `{}`), testPolicy(0), ErrWrongKind},
		{"empty", nil, testPolicy(0), ErrTruncated},
		{"truncated header", good[:5], testPolicy(0), ErrTruncated},
		{"truncated manifest", good[:headerLen+3], testPolicy(0), ErrTruncated},
		{"truncated signature", good[:hdrEnd-1], testPolicy(0), ErrTruncated},
		{"no payload", good[:hdrEnd], testPolicy(0), ErrTruncated},
		{"truncated payload", good[:len(good)-1], testPolicy(0), ErrTruncated},
		{"bad magic", flip(0), testPolicy(0), ErrMalformed},
		{"manifest length zero", append([]byte(Magic), 0, 0), testPolicy(0), ErrMalformed},
		{"manifest length over limit", append([]byte(Magic), 0xff, 0xff), testPolicy(0), ErrMalformed},
		{"manifest byte flipped", flip(headerLen + 10), testPolicy(0), ErrBadSignature},
		{"signature byte flipped", flip(hdrEnd - 1), testPolicy(0), ErrBadSignature},
		{"payload byte flipped", flip(hdrEnd + 500), testPolicy(0), ErrDigestMismatch},
		{"trailing byte", append(bytes.Clone(good), 0), testPolicy(0), ErrMalformed},
		{"signed digest mismatch", signRaw(testKey(1), wrongDigest, img), testPolicy(0), ErrDigestMismatch},
		{"signed unknown field", signRaw(testKey(1), rawManifest(img, `,"x":1`), img), testPolicy(0), ErrMalformed},
		{"signed trailing JSON", signRaw(testKey(1), rawManifest(img, "")+"{}", img), testPolicy(0), ErrMalformed},
		{"signed version zero", signRaw(testKey(1), strings.Replace(rawManifest(img, ""), `"version":3`, `"version":0`, 1), img), testPolicy(0), ErrMalformed},
		{"signed size over limit", signRaw(testKey(1), strings.Replace(rawManifest(img, ""), `"size":1000`, `"size":99999999999`, 1), img), testPolicy(0), ErrMalformed},
		{"signed raw envelope", signRaw(testKey(1), rawManifest(img, ""), img), testPolicy(0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.policy.VerifyBundle(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyBundle: err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (m.Size != int64(len(img)) || m.Kind != KindFirmware) {
				t.Errorf("manifest = %+v, want a firmware manifest of %d bytes", m, len(img))
			}
		})
	}
}

func TestVerifyBundleRejectsEveryFlippedByte(t *testing.T) {
	img := testImage(200)
	good := signBundle(t, testKey(1), 1, img)
	for i := range good {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(good)
			b[i] ^= bit
			if _, err := testPolicy(0).VerifyBundle(bytes.NewReader(b)); err == nil {
				t.Fatalf("byte %d ^ %#x: accepted", i, bit)
			}
		}
	}
}

func TestOpenBundleStreams(t *testing.T) {
	img := testImage(100 << 10)
	good := signBundle(t, testKey(1), 2, img)
	// One byte at a time, with a data error at the end of the source.
	b, err := testPolicy(0).OpenBundle(iotest.OneByteReader(bytes.NewReader(good)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, b); err != nil {
		t.Fatalf("copy: %v", err)
	}
	if !bytes.Equal(out.Bytes(), img) {
		t.Fatal("streamed payload differs from the image")
	}
	if _, err := b.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after the end: err = %v, want io.EOF", err)
	}
	if got := b.Manifest().Version; got != 2 {
		t.Errorf("version = %d, want 2", got)
	}
}

func TestOpenBundleSourceError(t *testing.T) {
	good := signBundle(t, testKey(1), 2, testImage(1000))
	boom := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(good[:len(good)-10]), iotest.ErrReader(boom))
	_, err := testPolicy(0).VerifyBundle(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

// changingReader returns different bytes after the second rewind.
type changingReader struct {
	*bytes.Reader
	passes int
}

func (c *changingReader) Seek(off int64, whence int) (int64, error) {
	c.passes++
	if c.passes == 2 {
		c.Reader = bytes.NewReader(testImage(50))
	}
	return c.Reader.Seek(off, whence)
}

func TestSignBundleImageChanged(t *testing.T) {
	r := &changingReader{Reader: bytes.NewReader(testImage(40))}
	_, err := SignBundle(io.Discard, testKey(1), Manifest{Product: testProduct, Version: 1, Created: testCreated}, r)
	if err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("err = %v, want an image-changed error", err)
	}
}

func TestSignRefuses(t *testing.T) {
	img := bytes.NewReader(testImage(10))
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		m    Manifest
	}{
		{"no product", testKey(1), Manifest{Version: 1, Created: testCreated}},
		{"product with space", testKey(1), Manifest{Product: "palm kiosk", Version: 1, Created: testCreated}},
		{"version zero", testKey(1), Manifest{Product: testProduct, Created: testCreated}},
		{"no created time", testKey(1), Manifest{Product: testProduct, Version: 1}},
		{"long release", testKey(1), Manifest{Product: testProduct, Version: 1, Release: strings.Repeat("1", 65), Created: testCreated}},
		{"short key", testKey(1)[:10], Manifest{Product: testProduct, Version: 1, Created: testCreated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img.Reset(testImage(10))
			var buf bytes.Buffer
			if _, err := SignBundle(&buf, tt.key, tt.m, img); err == nil {
				t.Fatal("SignBundle accepted it")
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes for a refused bundle", buf.Len())
			}
		})
	}
}

func TestVerifyConfig(t *testing.T) {
	const doc = `{"device_id":"kiosk-7","hardware":"sim"}`
	signed := signConfig(t, testKey(1), 9, doc)
	tests := []struct {
		name   string
		in     []byte
		policy Policy
		want   error
	}{
		{"good", signed, testPolicy(9), nil},
		{"older config", signed, testPolicy(10), ErrRollback},
		{"unsigned", []byte(doc), testPolicy(0), ErrMalformed},
		{"bundle as config", signBundle(t, testKey(1), 9, testImage(10)), testPolicy(0), ErrWrongKind},
		{"payload tampered", bytes.Replace(signed, []byte("kiosk-7"), []byte("kiosk-8"), 1), testPolicy(0), ErrDigestMismatch},
		{"other key", signConfig(t, testKey(3), 9, doc), testPolicy(0), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, payload, err := tt.policy.VerifyConfig(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (string(payload) != doc || m.Version != 9 || m.Kind != KindConfig) {
				t.Errorf("got %+v %q, want version 9 and the document", m, payload)
			}
		})
	}
}

func TestSignConfigRefusesNonJSON(t *testing.T) {
	_, err := SignConfig(io.Discard, testKey(1), Manifest{Product: testProduct, Version: 1, Created: testCreated}, []byte("{not json"))
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

func TestPolicyNeedsProduct(t *testing.T) {
	good := signBundle(t, testKey(1), 1, testImage(10))
	if _, err := (Policy{Keys: testPolicy(0).Keys}).VerifyBundle(bytes.NewReader(good)); err == nil {
		t.Fatal("a policy without a product accepted a bundle")
	}
}

func BenchmarkVerifyBundle(b *testing.B) {
	img := testImage(8 << 20)
	good := signBundle(b, testKey(1), 1, img)
	p := testPolicy(0)
	b.SetBytes(int64(len(img)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.VerifyBundle(bytes.NewReader(good)); err != nil {
			b.Fatal(err)
		}
	}
}

// patternImage is a large image generated on the fly, so the test itself
// holds none of it in memory.
type patternImage struct {
	size, off int64
}

func (p *patternImage) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.size-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 31 >> 3)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func (p *patternImage) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart {
		return 0, errors.New("only SeekStart")
	}
	p.off = off
	return off, nil
}

// headerWriter keeps the first bytes written (the envelope header) and
// counts the rest.
type headerWriter struct {
	head []byte
	n    int64
}

func (h *headerWriter) Write(b []byte) (int, error) {
	if keep := headerLen + MaxManifestSize + ed25519.SignatureSize - len(h.head); keep > 0 {
		h.head = append(h.head, b[:min(keep, len(b))]...)
	}
	h.n += int64(len(b))
	return len(b), nil
}

func TestVerifyBundleStreamsLargeImage(t *testing.T) {
	const size = 32 << 20
	var hw headerWriter
	if _, err := SignBundle(&hw, testKey(1), Manifest{Product: testProduct, Version: 1, Created: testCreated}, &patternImage{size: size}); err != nil {
		t.Fatal(err)
	}
	hdr := hw.head[:hw.n-size]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := testPolicy(0).VerifyBundle(io.MultiReader(bytes.NewReader(hdr), &patternImage{size: size}))
	runtime.ReadMemStats(&after)
	if err != nil || m.Size != size {
		t.Fatalf("VerifyBundle: %+v, %v", m, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("verifying a %d MiB image allocated %d bytes; the image must be streamed", size>>20, alloc)
	}
}

func TestSignBundleRewindsImage(t *testing.T) {
	img := testImage(300)
	r := bytes.NewReader(img)
	if _, err := r.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m, err := SignBundle(&buf, testKey(1), Manifest{Product: testProduct, Version: 1, Created: testCreated}, r)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != int64(len(img)) || !bytes.HasSuffix(buf.Bytes(), img) {
		t.Fatalf("signed %d bytes, want the whole image of %d", m.Size, len(img))
	}
}
