package seal

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

var ctx0 = Context{Device: "kiosk-1", Request: "req-1", Time: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
	Flow: wire.FlowIdentify, Part: PartPalm}

func pair(t testing.TB) (*Sealer, *Opener) {
	t.Helper()
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSealer(pub)
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(o.PublicKey(), pub) {
		t.Fatal("opener's public key differs from the generated one")
	}
	return s, o
}

func TestRoundTrip(t *testing.T) {
	s, o := pair(t)
	msg := []byte("palm region pixels")
	a, err := s.Seal(ctx0, msg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Seal(ctx0, msg)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal")
	}
	if len(a) != len(msg)+Overhead {
		t.Fatalf("sealed length %d, want %d", len(a), len(msg)+Overhead)
	}
	if bytes.Contains(a, msg) {
		t.Fatal("plaintext visible in sealed bytes")
	}
	got, err := o.Open(ctx0, a)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRejects(t *testing.T) {
	s, o := pair(t)
	_, other := pair(t)
	sealed, err := s.Seal(ctx0, []byte("palm region pixels"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	with := func(change func(*Context)) Context {
		c := ctx0
		change(&c)
		return c
	}
	tests := []struct {
		name   string
		opener *Opener
		ctx    Context
		in     []byte
	}{
		{"tampered encapsulated key", o, ctx0, flip(10)},
		{"tampered ciphertext", o, ctx0, flip(encSize + 3)},
		{"tampered tag", o, ctx0, flip(len(sealed) - 1)},
		{"truncated", o, ctx0, sealed[:len(sealed)-1]},
		{"too short", o, ctx0, sealed[:Overhead-1]},
		{"wrong key", other, ctx0, sealed},
		{"other device", o, with(func(c *Context) { c.Device = "kiosk-2" }), sealed},
		{"other request", o, with(func(c *Context) { c.Request = "req-2" }), sealed},
		{"other time", o, with(func(c *Context) { c.Time = c.Time.Add(time.Nanosecond) }), sealed},
		{"other flow", o, with(func(c *Context) { c.Flow = wire.FlowDelete }), sealed},
		{"other part", o, with(func(c *Context) { c.Part = PartCard }), sealed},
		// Length prefixes keep field boundaries: "kiosk-1"+"req-1" ≠ "kiosk-1r"+"eq-1".
		{"shifted boundary", o, with(func(c *Context) { c.Device, c.Request = "kiosk-1r", "eq-1" }), sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if pt, err := tt.opener.Open(tt.ctx, tt.in); !errors.Is(err, ErrOpen) || pt != nil {
				t.Fatalf("Open = %v, %v; want ErrOpen", pt, err)
			}
		})
	}
}

func TestBadKeys(t *testing.T) {
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Error("NewSealer accepted a 5-byte key")
	}
	if _, err := NewOpener(make([]byte, 31)); err == nil {
		t.Error("NewOpener accepted a 31-byte key")
	}
}

// FuzzOpen feeds the cloud side arbitrary sealed bytes: only a message
// sealed to the fixed key under ctx0 may open.
func FuzzOpen(f *testing.F) {
	o, err := NewOpener(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSealer(o.PublicKey())
	if err != nil {
		f.Fatal(err)
	}
	good, err := s.Seal(ctx0, []byte("PALM1 record"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[len(good)/2:])
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := o.Open(ctx0, b)
		if err != nil {
			if !errors.Is(err, ErrOpen) || pt != nil {
				t.Fatalf("Open failed with %v, %v", pt, err)
			}
			return
		}
		if _, err := o.Open(ctx0, b[:len(b)-1]); err == nil {
			t.Fatal("a truncated message opened too")
		}
	})
}
