package cloud

import (
	"fmt"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

// TestDeleteNeedsBothFactors: a deletion removes the enrolment only when
// the palm and the second factor (card or phone) are that enrolment's,
// and every failure gets the very same answer.
func TestDeleteNeedsBothFactors(t *testing.T) {
	phone, card := []byte("5550100200"), []byte("4539578763621486")
	other := wire.AppendCapture(nil, texture(2))
	tests := []struct {
		name  string
		parts parts
	}{
		{"no second factor", parts{}},
		{"wrong card", parts{card: []byte("5555555555554444")}},
		{"wrong phone", parts{phone: []byte("5550100999")}},
		{"card and phone both", parts{phone: phone, card: card}},
		{"card sealed to the wrong key", parts{card: card, cardToPalm: true}},
		{"right card, another palm", parts{palm: other, card: card}},
		{"right phone, another palm", parts{palm: other, phone: phone}},
		{"the card's number as the phone", parts{phone: card}},
	}
	f := newFixture(t)
	enrol := func(id string) string {
		d := f.handle(t, f.request(t, id, wire.FlowEnrol, parts{phone: phone, card: card}))
		if d.Outcome != wire.Approved {
			t.Fatalf("enrol: %+v", d)
		}
		return d.Subject
	}
	subject := enrol("enrol-1")
	want := wire.Decision{Outcome: wire.NotRecognized}
	for i, tt := range tests {
		d := f.handle(t, f.request(t, fmt.Sprint("del-", i), wire.FlowDelete, tt.parts))
		d.Request = ""
		if d != want {
			t.Errorf("%s: %+v, want %+v (the same answer for every failure)", tt.name, d, want)
		}
	}
	if n := f.cloud.Enrolled(); n != 1 {
		t.Fatalf("%d enrolments after failed deletions, want 1", n)
	}
	for i, factor := range []parts{{phone: phone}, {card: card}} {
		d := f.handle(t, f.request(t, fmt.Sprint("delete-", i), wire.FlowDelete, factor))
		if d.Outcome != wire.Approved || d.Subject != subject || d.Reason != "deleted" {
			t.Fatalf("delete with palm and %+v: %+v, want approved for %s", factor, d, subject)
		}
		if n := f.cloud.Enrolled(); n != 0 {
			t.Fatalf("%d enrolments after the deletion", n)
		}
		subject = enrol(fmt.Sprint("enrol-again-", i))
	}
}

// TestEnrolmentFailureCap: after MaxFailures failed attempts with its
// palm, an enrolment's biometric is disabled; before that a success
// resets the count.
func TestEnrolmentFailureCap(t *testing.T) {
	f := newFixture(t)
	f.cloud.limits.rate, f.cloud.limits.burst = 1e6, 1e6 // this test is about the cap, not the rate
	phone := []byte("5550100200")
	if d := f.handle(t, f.request(t, "enrol", wire.FlowEnrol, parts{phone: phone, card: []byte("4539578763621486")})); d.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", d)
	}
	n := 0
	fail := func(times int) {
		for range times {
			n++
			if d := f.handle(t, f.request(t, fmt.Sprint("fail-", n), wire.FlowDelete, parts{phone: []byte("5550100999")})); d.Outcome != wire.NotRecognized {
				t.Fatalf("failed deletion %d: %+v", n, d)
			}
		}
	}
	fail(99)
	if d := f.handle(t, f.request(t, "identify-1", wire.FlowIdentify, parts{})); d.Outcome != wire.Approved {
		t.Fatalf("identify after 99 failures: %+v, want approved (and the count reset)", d)
	}
	fail(99)
	if d := f.handle(t, f.request(t, "identify-2", wire.FlowIdentify, parts{})); d.Outcome != wire.Approved {
		t.Fatalf("identify after 99 more failures: %+v, want approved", d)
	}
	fail(100)
	d := f.handle(t, f.request(t, "identify-3", wire.FlowIdentify, parts{}))
	if d.Outcome != wire.Declined || d.Reason != "biometric_disabled" || d.Subject != "" {
		t.Fatalf("identify after 100 failures: %+v, want declined biometric_disabled", d)
	}
	if d := f.handle(t, f.request(t, "delete", wire.FlowDelete, parts{phone: phone})); d.Outcome != wire.NotRecognized {
		t.Fatalf("delete with the right factors once disabled: %+v, want not_recognized", d)
	}
}

// TestKioskRateLimit: each kiosk has its own bucket; one past it is
// answered retry without matching, and the others are served.
func TestKioskRateLimit(t *testing.T) {
	f := newFixture(t)
	burst := f.cloud.cfg.KioskBurst
	for i := range burst {
		if d := f.handle(t, f.request(t, fmt.Sprint("a-", i), wire.FlowIdentify, parts{})); d.Outcome != wire.NotRecognized {
			t.Fatalf("request %d within the burst: %+v", i, d)
		}
	}
	if d := f.handle(t, f.request(t, "a-over", wire.FlowIdentify, parts{})); d.Outcome != wire.Retry || d.Reason != "rate_limited" {
		t.Fatalf("request past the burst: %+v, want retry rate_limited", d)
	}
	if d := f.handle(t, f.request(t, "b-1", wire.FlowIdentify, parts{device: "kiosk-2"})); d.Outcome != wire.NotRecognized {
		t.Fatalf("another kiosk: %+v, want served", d)
	}
	f.now = f.now.Add(time.Duration(float64(time.Second) / float64(f.cloud.cfg.KioskRate)))
	if d := f.handle(t, f.request(t, "a-later", wire.FlowIdentify, parts{})); d.Outcome != wire.NotRecognized {
		t.Fatalf("request once a token is back: %+v, want served", d)
	}
	if d := f.handle(t, f.request(t, "a-later-2", wire.FlowIdentify, parts{})); d.Reason != "rate_limited" {
		t.Fatalf("second request on one token: %+v, want rate_limited", d)
	}
}
