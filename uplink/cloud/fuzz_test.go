package cloud

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

var fuzzTime = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// fuzzCloud returns a cloud with fixed keys, so the committed corpus stays
// valid, and a sealer for its palm key.
func fuzzCloud(f *testing.F) (*Cloud, *seal.Sealer, ed25519.PublicKey) {
	palm, err := seal.NewOpener(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		f.Fatal(err)
	}
	pay, err := seal.NewOpener(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		f.Fatal(err)
	}
	sign := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	c, err := New(Config{Seal: palm, Payment: pay, SignKey: sign, Now: func() time.Time { return fuzzTime }})
	if err != nil {
		f.Fatal(err)
	}
	s, err := seal.NewSealer(palm.PublicKey())
	if err != nil {
		f.Fatal(err)
	}
	return c, s, sign.Public().(ed25519.PublicKey)
}

// FuzzHandle feeds the cloud arbitrary request bytes: it must either refuse
// them or answer with a valid signed decision for the request's device.
func FuzzHandle(f *testing.F) {
	c, s, pub := fuzzCloud(f)
	for _, fl := range []wire.Flow{wire.FlowIdentify, wire.FlowEnrol} {
		r := wire.Request{ID: "req-" + string(fl), Device: "kiosk-1", Flow: fl, Time: fuzzTime}
		r.Palm, _ = s.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, texture(5)))
		r.Phone, _ = s.Seal(seal.ContextOf(r, seal.PartPhone), []byte("+15550100"))
		b, _ := wire.EncodeRequest(r)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, decErr := wire.DecodeRequest(b)
		subject := "palm.req.kiosk-1.identify"
		if decErr == nil {
			subject = wire.RequestSubject(req.Device, req.Flow)
		}
		reply, err := c.Handle(subject, b)
		if err != nil {
			return
		}
		if decErr != nil {
			t.Fatal("answered a request that does not decode")
		}
		st, err := wire.Verify(pub, reply)
		if err != nil || st.Device != req.Device || st.Decision.Request != req.ID {
			t.Fatalf("reply does not answer the request: %+v, %v", st, err)
		}
	})
}
