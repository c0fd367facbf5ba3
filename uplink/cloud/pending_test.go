package cloud

import (
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

// TestAppEnrolment: an enrolment begun in the app is completed by the
// first kiosk capture that matches its photo, with the app's phone and
// card; other palms leave it waiting; it expires after PendingTTL.
func TestAppEnrolment(t *testing.T) {
	f := newFixture(t)
	if _, err := f.cloud.AddPending(texture(5), nil, []byte("4539578763621486")); err == nil {
		t.Error("a pending enrolment without a phone was taken")
	}
	if _, err := f.cloud.AddPending(texture(5), []byte("5550100400"), []byte("4539578763621486")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cloud.AddPending(texture(7), []byte("5550100500"), []byte("5555555555554444")); err != nil {
		t.Fatal(err)
	}
	palm := wire.AppendCapture(nil, texture(5))
	if d := f.handle(t, f.request(t, "i0", wire.FlowIdentify, parts{palm: wire.AppendCapture(nil, texture(6))})); d.Outcome != wire.NotRecognized {
		t.Fatalf("another palm: %+v", d)
	}
	d := f.handle(t, f.request(t, "i1", wire.FlowIdentify, parts{palm: palm}))
	if d.Outcome != wire.Approved || d.Reason != "app_enrolment_completed" || d.Subject == "" {
		t.Fatalf("first capture: %+v, want approved app_enrolment_completed", d)
	}
	if n, p := f.cloud.Enrolled(), f.cloud.Pending(); n != 1 || p != 1 {
		t.Fatalf("%d enrolled and %d pending, want 1 and 1", n, p)
	}
	if again := f.handle(t, f.request(t, "i2", wire.FlowIdentify, parts{palm: palm})); again.Outcome != wire.Approved || again.Reason != "" || again.Subject != d.Subject {
		t.Fatalf("next capture: %+v, want a plain approval of %s", again, d.Subject)
	}
	// The app's phone is the enrolment's second factor.
	if del := f.handle(t, f.request(t, "d1", wire.FlowDelete, parts{palm: palm, phone: []byte("5550100400")})); del.Outcome != wire.Approved {
		t.Fatalf("delete with the app's phone: %+v", del)
	}
	f.now = f.now.Add(PendingTTL + time.Minute)
	if d := f.handle(t, f.request(t, "i3", wire.FlowIdentify, parts{palm: wire.AppendCapture(nil, texture(7))})); d.Outcome != wire.NotRecognized {
		t.Fatalf("a pending enrolment past its TTL: %+v, want not_recognized", d)
	}
	if p := f.cloud.Pending(); p != 0 {
		t.Errorf("%d pending after the TTL", p)
	}
}
