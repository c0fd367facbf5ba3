package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"image"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func sampleRequest() Request {
	return Request{ID: "req-1", Device: "kiosk-1", Flow: FlowEnrol, Time: t0,
		Palm: []byte{1, 2, 3}, Phone: []byte{4}, Card: []byte{5}}
}

func TestRequestRoundTrip(t *testing.T) {
	b, err := EncodeRequest(sampleRequest())
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleRequest()
	if got.ID != want.ID || got.Device != want.Device || got.Flow != want.Flow || !got.Time.Equal(want.Time) ||
		!bytes.Equal(got.Palm, want.Palm) || !bytes.Equal(got.Phone, want.Phone) || !bytes.Equal(got.Card, want.Card) {
		t.Fatalf("round trip: got %+v, want %+v", got, want)
	}
}

func TestDecodeRequestRejects(t *testing.T) {
	good, _ := EncodeRequest(sampleRequest())
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"unknown field", bytes.Replace(good, []byte(`{"id"`), []byte(`{"x":1,"id"`), 1), ErrMalformed},
		{"trailing data", append(append([]byte{}, good...), []byte(` {}`)...), ErrMalformed},
		{"bad flow", bytes.Replace(good, []byte(`"enrol"`), []byte(`"pay"`), 1), ErrMalformed},
		{"subject in device", bytes.Replace(good, []byte(`"kiosk-1"`), []byte(`"kiosk.*"`), 1), ErrMalformed},
		{"no palm", []byte(`{"id":"a","device":"b","flow":"identify","time":"2026-01-01T00:00:00Z"}`), ErrMalformed},
		{"too large", append(good, bytes.Repeat([]byte(" "), MaxRequest)...), ErrTooLarge},
		{"not json", []byte("PALM1"), ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeRequest(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func decision() Statement {
	return Statement{Kind: KindDecision, Device: "kiosk-1", Nonce: NewNonce(), IssuedAt: t0, Expires: t0.Add(time.Minute),
		Decision: &Decision{Request: "req-1", Outcome: Approved, Subject: "sub-1"}}
}

func TestSignVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	signed, err := Sign(priv, decision())
	if err != nil {
		t.Fatal(err)
	}
	st, err := Verify(pub, signed)
	if err != nil {
		t.Fatal(err)
	}
	if st.Decision.Subject != "sub-1" || st.Device != "kiosk-1" {
		t.Fatalf("verified statement %+v", st)
	}
	var env Signed
	if err := json.Unmarshal(signed, &env); err != nil {
		t.Fatal(err)
	}
	tampered := env
	tampered.Payload = bytes.Replace(env.Payload, []byte("sub-1"), []byte("sub-2"), 1)
	tamperedBytes, _ := json.Marshal(tampered)
	plain := env
	plain.Sig = ed25519.Sign(priv, env.Payload) // pure Ed25519, no context
	plainBytes, _ := json.Marshal(plain)
	tests := []struct {
		name string
		key  ed25519.PublicKey
		in   []byte
		want error
	}{
		{"other key", otherPub, signed, ErrBadSignature},
		{"tampered payload", pub, tamperedBytes, ErrBadSignature},
		{"signature without context", pub, plainBytes, ErrBadSignature},
		{"garbage", pub, []byte(`{"payload":"","sig":""}`), ErrBadSignature},
		{"unknown field", pub, bytes.Replace(signed, []byte(`{"payload"`), []byte(`{"x":0,"payload"`), 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(tt.key, tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestStatementValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Statement)
	}{
		{"short nonce", func(s *Statement) { s.Nonce = "abcd" }},
		{"non-hex nonce", func(s *Statement) { s.Nonce = strings.Repeat("z", 32) }},
		{"expires before issued", func(s *Statement) { s.Expires = s.IssuedAt }},
		{"no decision", func(s *Statement) { s.Decision = nil }},
		{"both bodies", func(s *Statement) { s.Command = &Command{Type: CmdDeleteMyData, Seq: 1, Subject: "s"} }},
		{"bad outcome", func(s *Statement) { s.Decision.Outcome = "maybe" }},
		{"unknown kind", func(s *Statement) { s.Kind = "other" }},
		{"bad device", func(s *Statement) { s.Device = "a.b" }},
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := decision()
			tt.change(&s)
			if _, err := Sign(priv, s); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Sign accepted an invalid statement: %v", err)
			}
		})
	}
}

func TestCommandValidate(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	update := func(change func(*Update)) *Update {
		u := &Update{Object: "palmkiosk-7.bundle", Version: 7, Release: "1.2.3", Size: 1 << 20, SHA256: digest}
		if change != nil {
			change(u)
		}
		return u
	}
	tests := []struct {
		name string
		cmd  Command
		ok   bool
	}{
		{"delete", Command{Type: CmdDeleteMyData, Seq: 1, Subject: "sub-1"}, true},
		{"delete without subject", Command{Type: CmdDeleteMyData, Seq: 1}, false},
		{"no sequence", Command{Type: CmdDeleteMyData, Subject: "sub-1"}, false},
		{"config", Command{Type: CmdConfig, Seq: 2, Config: []byte("PALMSIG1...")}, true},
		{"empty config", Command{Type: CmdConfig, Seq: 2}, false},
		{"config too large", Command{Type: CmdConfig, Seq: 2, Config: make([]byte, MaxConfig+1)}, false},
		{"update", Command{Type: CmdUpdate, Seq: 3, Update: update(nil)}, true},
		{"update short digest", Command{Type: CmdUpdate, Seq: 3, Update: update(func(u *Update) { u.SHA256 = "ab" })}, false},
		{"update version 0", Command{Type: CmdUpdate, Seq: 3, Update: update(func(u *Update) { u.Version = 0 })}, false},
		{"update empty", Command{Type: CmdUpdate, Seq: 3, Update: update(func(u *Update) { u.Size = 0 })}, false},
		{"update too large", Command{Type: CmdUpdate, Seq: 3, Update: update(func(u *Update) { u.Size = MaxBundle + 1 })}, false},
		{"update object with a star", Command{Type: CmdUpdate, Seq: 3, Update: update(func(u *Update) { u.Object = "a.*" })}, false},
		{"update object with a slash", Command{Type: CmdUpdate, Seq: 3, Update: update(func(u *Update) { u.Object = "../x" })}, false},
		{"unknown type", Command{Type: "reboot", Seq: 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cmd.Validate(); (err == nil) != tt.ok {
				t.Errorf("%+v: Validate() = %v, want ok=%v", tt.cmd, err, tt.ok)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	e := Event{Time: t0, Device: "kiosk-1", Type: "decision", Flow: FlowIdentify, Outcome: Approved, Millis: 420}
	b, err := EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvent(b)
	if err != nil || got != (Event{Time: got.Time, Device: "kiosk-1", Type: "decision", Flow: FlowIdentify, Outcome: Approved, Millis: 420}) || !got.Time.Equal(t0) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// A point of sale's answer is an event outcome too.
	pos := Event{Time: t0, Device: "kiosk-1", Type: "pos_answer", Outcome: "cancelled", Reason: "cloud_down"}
	if b, err := EncodeEvent(pos); err != nil {
		t.Errorf("EncodeEvent(%+v): %v", pos, err)
	} else if got, err := DecodeEvent(b); err != nil || got.Outcome != "cancelled" {
		t.Errorf("pos_answer round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","card":"4111"}`, // no such field
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","ms":-1}`,
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","outcome":"Approved"}`,
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","outcome":"4111111111111111"}`,
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","reason":"card_4111111111111111"}`,
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","reason":"phone:5550100"}`,
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"x","reason":"Free text"}`,
		`{"time":"2026-01-01T00:00:00Z","device":"k","type":"Decision"}`,
	} {
		if _, err := DecodeEvent([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeEvent(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"decision:bad_signature", true},
		{"camera-down", true},
		{"retry_123456", true}, // six digits
		{"retry_1234567", false},
		{"1234-5678", true},
		{"", false},
		{strings.Repeat("a", 129), false},
		{"a.b", false},
		{"a b", false},
	}
	for _, tt := range tests {
		if got := token(tt.s); got != tt.ok {
			t.Errorf("token(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
}

func TestCapture(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 150))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	roi := img.SubImage(image.Rect(10, 20, 138, 148)).(*image.Gray)
	rec := AppendCapture([]byte("prefix"), roi)
	got, err := ParseCapture(rec[len("prefix"):])
	if err != nil {
		t.Fatal(err)
	}
	if got.Rect.Dx() != 128 || got.Rect.Dy() != 128 {
		t.Fatalf("size %v", got.Rect)
	}
	for y := 0; y < 128; y++ {
		for x := 0; x < 128; x++ {
			if got.GrayAt(x, y) != roi.GrayAt(x+10, y+20) {
				t.Fatalf("pixel %d,%d differs", x, y)
			}
		}
	}
	rec = rec[len("prefix"):]
	if len(rec) != CaptureSize(128, 128) {
		t.Fatalf("record is %d bytes, CaptureSize says %d", len(rec), CaptureSize(128, 128))
	}
	for name, bad := range map[string][]byte{
		"truncated": rec[:len(rec)-1],
		"long":      append(append([]byte{}, rec...), 0),
		"magic":     append([]byte("PALM2"), rec[5:]...),
		"empty":     nil,
		"zero size": []byte("PALM1\x00\x00\x00\x00"),
	} {
		if _, err := ParseCapture(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestDevicePermissionsCoverSubjects(t *testing.T) {
	pub, sub := DevicePermissions("k1")
	covers := func(pattern, subject string) bool {
		return pattern == subject || strings.HasSuffix(pattern, ">") && strings.HasPrefix(subject, strings.TrimSuffix(pattern, ">"))
	}
	for _, s := range []struct {
		subject string
		allow   []string
	}{
		{RequestSubject("k1", FlowIdentify), pub},
		{TelemetrySubject("k1", "decision"), pub},
		{BundleSubject("k1"), pub},
		{CommandSubject("k1", CmdUpdate), sub},
		{InboxPrefix("k1") + ".abc.1", sub},
	} {
		ok := false
		for _, p := range s.allow {
			ok = ok || covers(p, s.subject)
		}
		if !ok {
			t.Errorf("%s not covered by %v", s.subject, s.allow)
		}
	}
}

func TestValidDevice(t *testing.T) {
	for _, id := range []string{"k1", "kiosk-test-1", strings.Repeat("k", maxID)} {
		if !ValidDevice(id) {
			t.Errorf("ValidDevice(%q) = false", id)
		}
	}
	// Each of these would make DevicePermissions cover other kiosks' subjects
	// or not be a single subject token.
	for _, id := range []string{"", "*", ">", "a.b", "k1.*", "k 1", strings.Repeat("k", maxID+1)} {
		if ValidDevice(id) {
			t.Errorf("ValidDevice(%q) = true", id)
		}
	}
}

func TestReplyAllowed(t *testing.T) {
	tests := []struct {
		device, reply string
		want          bool
	}{
		{"kiosk-1", "_INBOX.kiosk-1.abc", true},
		{"kiosk-1", "_INBOX.kiosk-1.abc.def", true},
		{"kiosk-1", "_INBOX.kiosk-1", false},
		{"kiosk-1", "_INBOX.kiosk-1.", false},
		{"kiosk-1", "_INBOX.kiosk-12.abc", false},
		{"kiosk-1", "_INBOX.kiosk-2.abc", false},
		{"kiosk-1", "palm.cmd.kiosk-1.config", false},
		{"kiosk-1", "palm.tel.kiosk-2.uplink_rejected", false},
		{"kiosk-1", "", false},
	}
	for _, tt := range tests {
		if got := ReplyAllowed(tt.device, tt.reply); got != tt.want {
			t.Errorf("ReplyAllowed(%q, %q) = %v, want %v", tt.device, tt.reply, got, tt.want)
		}
	}
}

func TestParseRequestSubject(t *testing.T) {
	tests := []struct {
		subject string
		device  string
		flow    Flow
		ok      bool
	}{
		{RequestSubject("kiosk-1", FlowIdentify), "kiosk-1", FlowIdentify, true},
		{"palm.req.kiosk-1.pay", "kiosk-1", "pay", true}, // a flow is checked by DecodeRequest, not here
		{"palm.req.kiosk-1", "", "", false},
		{"palm.req.kiosk-1.", "", "", false},
		{"palm.req.kiosk-1.identify.x", "", "", false},
		{"palm.tel.kiosk-1.identify", "", "", false},
		{"palm.req.*.identify", "", "", false},
	}
	for _, tt := range tests {
		d, f, ok := ParseRequestSubject(tt.subject)
		if d != tt.device || f != tt.flow || ok != tt.ok {
			t.Errorf("ParseRequestSubject(%q) = %q, %q, %v; want %q, %q, %v", tt.subject, d, f, ok, tt.device, tt.flow, tt.ok)
		}
	}
}

func TestEnrolCaptures(t *testing.T) {
	region := func(seed int) *image.Gray {
		img := image.NewGray(image.Rect(0, 0, 128, 128))
		for i := range img.Pix {
			img.Pix[i] = uint8(i*seed + seed)
		}
		return img
	}
	var rec []byte
	hands := []Hand{Left, Left, Left, Right, Right, Right}
	for i, h := range hands {
		rec = AppendEnrolCapture(rec, h, region(i+1))
	}
	if len(rec) != EnrolSize(len(hands), 128, 128) {
		t.Fatalf("record is %d bytes, EnrolSize says %d", len(rec), EnrolSize(len(hands), 128, 128))
	}
	got, err := ParseCaptures(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(hands) {
		t.Fatalf("%d captures, want %d", len(got), len(hands))
	}
	for i, c := range got {
		if c.Hand != hands[i] || !bytes.Equal(c.ROI.Pix, region(i+1).Pix) {
			t.Errorf("capture %d: hand %v or pixels differ", i, c.Hand)
		}
	}
	// Version 1 is one capture of the left palm.
	v1, err := ParseCaptures(AppendCapture(nil, region(9)))
	if err != nil || len(v1) != 1 || v1[0].Hand != Left || !bytes.Equal(v1[0].ROI.Pix, region(9).Pix) {
		t.Errorf("version 1 record: %d captures, err %v", len(v1), err)
	}

	one := AppendEnrolCapture(nil, Left, region(1))
	fourLeft := rec[:0:0]
	for range 4 {
		fourLeft = AppendEnrolCapture(fourLeft, Left, region(2))
	}
	badHand := bytes.Clone(one)
	badHand[len(enrolMagic)+1] = 'X'
	zero := bytes.Clone(one)
	zero[len(enrolMagic)] = 0
	tooMany := bytes.Clone(one)
	tooMany[len(enrolMagic)] = MaxEnrolCaptures + 1
	for name, bad := range map[string][]byte{
		"truncated":        rec[:len(rec)-1],
		"long":             append(bytes.Clone(rec), 0),
		"count above data": append([]byte("PALM2\x02"), one[len(enrolMagic)+1:]...),
		"no captures":      zero,
		"too many":         tooMany,
		"four of one hand": fourLeft,
		"unknown hand":     badHand,
		"unknown version":  append([]byte("PALM3"), one[len(enrolMagic):]...),
		"magic only":       []byte("PALM2"),
		"empty":            nil,
	} {
		if _, err := ParseCaptures(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}
