package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"image"
	"strings"
	"testing"
)

// fuzzKey signs the valid seeds of FuzzVerify; it is fixed so that the
// committed corpus stays valid.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// addSeeds adds each seed whole and split in two, as a message delivered in
// two chunks would first be seen.
func addSeeds(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(s[len(s)/2:])
	}
}

// checkErr fails if a decoder error quotes the input.
func checkErr(t *testing.T, in []byte, err error) {
	if err != nil && len(in) >= 8 && strings.Contains(err.Error(), string(in[:8])) {
		t.Fatalf("error %q quotes the input", err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	good, _ := EncodeRequest(sampleRequest())
	addSeeds(f, good, []byte(`{"id":"a","device":"b","flow":"delete","time":"2026-01-01T00:00:00Z","palm":"AA=="}`),
		[]byte(`{"id":"a","device":"b","flow":"pay","time":"2026-01-01T00:00:00Z","palm":"AA==","payment":{"ref":"m1","amount":1250,"currency":"EUR","merchant":"Corner Shop"}}`),
		[]byte(`{"id":"a","device":"b","flow":"void","time":"2026-01-01T00:00:00Z","payment":{"ref":"m1"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		checkErr(t, b, err)
		if err != nil {
			return
		}
		if _, err := DecodeRequest(b[:len(b)/2]); err == nil {
			t.Fatal("the first half of a valid request decoded too")
		}
		again, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		r2, err := DecodeRequest(again)
		if err != nil || r2.ID != r.ID || r2.Device != r.Device || r2.Flow != r.Flow || !r2.Time.Equal(r.Time) ||
			!bytes.Equal(r2.Palm, r.Palm) || !bytes.Equal(r2.Phone, r.Phone) || !bytes.Equal(r2.Card, r.Card) {
			t.Fatalf("round trip changed the request: %v", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	d, _ := Sign(fuzzKey, decision())
	c, _ := Sign(fuzzKey, Statement{Kind: KindCommand, Device: "kiosk-1", Nonce: NewNonce(), IssuedAt: t0,
		Expires: t0.Add(1), Command: &Command{Type: CmdDeleteMyData, Seq: 1, Subject: "sub-1"}})
	u, _ := Sign(fuzzKey, Statement{Kind: KindCommand, Device: "kiosk-1", Nonce: NewNonce(), IssuedAt: t0,
		Expires: t0.Add(1), Command: &Command{Type: CmdUpdate, Seq: 7, Update: &Update{Object: "palmkiosk-7.bundle",
			Version: 7, Release: "1.7.0", Size: 1 << 20, SHA256: strings.Repeat("ab", 32)}}})
	cfg, _ := Sign(fuzzKey, Statement{Kind: KindCommand, Device: "kiosk-1", Nonce: NewNonce(), IssuedAt: t0,
		Expires: t0.Add(1), Command: &Command{Type: CmdConfig, Seq: 8, Config: []byte("PALMSIG1\x00\x02{}")}})
	addSeeds(f, d, c, u, cfg, []byte(`{"payload":"e30=","sig":""}`))
	pub := fuzzKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Verify(pub, b)
		checkErr(t, b, err)
		if err != nil {
			return
		}
		if st.Validate() != nil {
			t.Fatal("Verify returned an invalid statement")
		}
		if _, err := Verify(pub, b[:len(b)/2]); err == nil {
			t.Fatal("the first half of a signed envelope verified too")
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	e, _ := EncodeEvent(Event{Time: t0, Device: "kiosk-1", Type: "decision", Flow: FlowEnrol, Outcome: Declined, Reason: "duplicate_palm", Millis: 3})
	addSeeds(f, e, []byte(`{"time":"2026-01-01T00:00:00Z","device":"k","type":"health"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		checkErr(t, b, err)
		if err != nil {
			return
		}
		if _, err := DecodeEvent(b[:len(b)/2]); err == nil {
			t.Fatal("the first half of a valid event decoded too")
		}
		again, err := EncodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		if ev2, err := DecodeEvent(again); err != nil || !ev2.Time.Equal(ev.Time) || ev2.Type != ev.Type || ev2.Reason != ev.Reason {
			t.Fatalf("round trip changed the event: %v", err)
		}
	})
}

func FuzzParseCapture(f *testing.F) {
	small := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(small.Pix, []byte{1, 2, 3, 4, 5, 6})
	addSeeds(f, AppendCapture(nil, small), AppendCapture(nil, image.NewGray(image.Rect(0, 0, 16, 16))))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := ParseCapture(b)
		checkErr(t, b, err)
		if err != nil {
			return
		}
		if !bytes.Equal(AppendCapture(nil, img), b) {
			t.Fatal("re-encoding a parsed capture changed it")
		}
		if _, err := ParseCapture(b[:len(b)/2]); err == nil {
			t.Fatal("the first half of a valid capture parsed too")
		}
	})
}

// FuzzParseCaptures: a record of either version either parses into captures
// that encode to the same bytes, or is refused without quoting it.
func FuzzParseCaptures(f *testing.F) {
	small := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(small.Pix, []byte{1, 2, 3, 4, 5, 6})
	both := AppendEnrolCapture(AppendEnrolCapture(nil, Left, small), Right, small)
	addSeeds(f, AppendCapture(nil, small), AppendEnrolCapture(nil, Left, small), both,
		AppendEnrolCapture(nil, Right, image.NewGray(image.Rect(0, 0, 16, 16))))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ParseCaptures(b)
		checkErr(t, b, err)
		if err != nil {
			return
		}
		var again []byte
		if string(b[:len(captureMagic)]) == captureMagic {
			again = AppendCapture(nil, cs[0].ROI)
		} else {
			for _, c := range cs {
				again = AppendEnrolCapture(again, c.Hand, c.ROI)
			}
		}
		if !bytes.Equal(again, b) {
			t.Fatal("re-encoding parsed captures changed them")
		}
		if _, err := ParseCaptures(b[:len(b)/2]); err == nil {
			t.Fatal("the first half of a valid record parsed too")
		}
	})
}

// FuzzParseRequestSubject: any subject either parses into a valid device
// whose request subject is the input again, or is refused.
func FuzzParseRequestSubject(f *testing.F) {
	for _, s := range []string{RequestSubject("kiosk-1", FlowIdentify), "palm.req.k.enrol", "palm.req.*.identify",
		"palm.req..identify", "palm.req.k.", "palm.tel.k.identify", "palm.req.k.identify.x"} {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, s string) {
		device, fl, ok := ParseRequestSubject(s)
		if !ok {
			return
		}
		if !ValidDevice(device) || RequestSubject(device, fl) != s {
			t.Fatalf("ParseRequestSubject(%q) = %q, %q", s, device, fl)
		}
	})
}

func FuzzDecodeBundleRequest(f *testing.F) {
	addSeeds(f, []byte(`{"object":"palmkiosk-7.bundle"}`), []byte(`{"object":"palmkiosk-7.bundle","from":137}`),
		[]byte(`{"object":"a b","from":1}`), []byte(`{"object":"x","from":-1}`), []byte(`{"object":"x","seq":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeBundleRequest(b)
		checkErr(t, b, err)
		if err != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if r2, err := DecodeBundleRequest(again); err != nil || r2 != r {
			t.Fatalf("%+v encoded and decoded again: %+v, %v", r, r2, err)
		}
	})
}

func FuzzParseBundleSubject(f *testing.F) {
	for _, s := range []string{BundleSubject("kiosk-1"), "palm.bundle.*", "palm.bundle.", "palm.bundle.k.x", "palm.req.k.identify"} {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Fuzz(func(t *testing.T, s string) {
		device, ok := ParseBundleSubject(s)
		if ok && (!ValidDevice(device) || BundleSubject(device) != s) {
			t.Fatalf("ParseBundleSubject(%q) = %q", s, device)
		}
	})
}
