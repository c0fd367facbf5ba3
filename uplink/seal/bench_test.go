package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"
	"time"
)

// BenchmarkSeal1MB seals a 1 MB capture with the HPKE suite; its pair
// BenchmarkAESGCM1MB encrypts the same bytes with raw AES-256-GCM. The
// HPKE benchmark also reports the ratio to AES-GCM measured in the same run.
func BenchmarkSeal1MB(b *testing.B) {
	pub, _, err := GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSealer(pub)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 1<<20)
	rand.Read(data)
	ctx := Context{Device: "kiosk-1", Request: "r1", Time: time.Unix(1, 0), Flow: "identify", Part: PartPalm}
	aesNs := aesGCMNs(b, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Seal(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/aesNs, "x-aes-gcm")
}

// BenchmarkAESGCM1MB is the baseline: AES-256-GCM over the same 1 MB.
func BenchmarkAESGCM1MB(b *testing.B) {
	data := make([]byte, 1<<20)
	rand.Read(data)
	g := newGCM(b)
	nonce := make([]byte, g.NonceSize())
	out := make([]byte, 0, len(data)+g.Overhead())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		out = g.Seal(out[:0], nonce, data, nil)
	}
}

func newGCM(b *testing.B) cipher.AEAD {
	key := make([]byte, 32)
	rand.Read(key)
	blk, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	g, err := cipher.NewGCM(blk)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// aesGCMNs measures raw AES-256-GCM on data, in nanoseconds per seal.
func aesGCMNs(b *testing.B, data []byte) float64 {
	g := newGCM(b)
	nonce := make([]byte, g.NonceSize())
	out := make([]byte, 0, len(data)+g.Overhead())
	const n = 64
	start := time.Now()
	for range n {
		out = g.Seal(out[:0], nonce, data, nil)
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// BenchmarkSealROI seals one palm record (128x128 region plus header), the
// size the kiosk really sends; the KEM dominates at this size.
func BenchmarkSealROI(b *testing.B) {
	pub, _, err := GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSealer(pub)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 128*128+9)
	ctx := Context{Device: "kiosk-1", Request: "r1", Time: time.Unix(1, 0), Flow: "identify", Part: PartPalm}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}
