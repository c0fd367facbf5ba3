package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"
	"time"
)

// BenchmarkSeal1MB seals a 1 MB capture with the HPKE suite; its pair
// BenchmarkAESGCM1MB encrypts the same bytes with raw AES-256-GCM. Each
// iteration here also runs one raw AES-256-GCM seal of the same data, timed
// apart: "seal-ns/op" is the HPKE seal alone (ns/op covers both), and
// "x-aes-gcm" is the ratio of the two under the same machine load.
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
	g := newGCM(b)
	nonce := make([]byte, g.NonceSize())
	out := make([]byte, 0, len(data)+g.Overhead())
	var hpkeTime, aesTime time.Duration
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Seal(ctx, data); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		out = g.Seal(out[:0], nonce, data, nil)
		hpkeTime, aesTime = hpkeTime+t1.Sub(t0), aesTime+time.Since(t1)
	}
	b.ReportMetric(float64(hpkeTime.Nanoseconds())/float64(b.N), "seal-ns/op")
	b.ReportMetric(float64(hpkeTime)/float64(aesTime), "x-aes-gcm")
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
