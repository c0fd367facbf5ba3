package cloud

import (
	"fmt"
	"testing"

	"github.com/palmd/palmd/uplink/wire"
)

func TestPay(t *testing.T) {
	f := newFixture(t)
	if d := f.handle(t, f.request(t, "enrol", wire.FlowEnrol, parts{phone: []byte("5550100200"), card: []byte("4539578763621486")})); d.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", d)
	}
	n := 0
	pay := func(ref string, amount int64, p parts) wire.Decision {
		n++
		r := f.request(t, fmt.Sprint("pay-", n), wire.FlowPay, p)
		r.Payment = &wire.Payment{Ref: ref, Amount: amount, Currency: "EUR", Merchant: "Corner Shop"}
		return f.handle(t, r)
	}
	void := func(ref string) wire.Decision {
		n++
		r := wire.Request{ID: fmt.Sprint("void-", n), Device: "kiosk-1", Flow: wire.FlowVoid, Time: f.now, Payment: &wire.Payment{Ref: ref}}
		return f.handle(t, r)
	}
	first := pay("m1", 1250, parts{})
	if first.Outcome != wire.Approved || first.Reference == "" {
		t.Fatalf("pay: %+v, want approved with a reference", first)
	}
	if again := pay("m1", 1250, parts{}); again.Outcome != wire.Approved || again.Reference != first.Reference {
		t.Fatalf("the same message id again: %+v, want the same reference %s", again, first.Reference)
	}
	if d := pay("m2", 500_01, parts{}); d.Outcome != wire.Declined || d.Reason != "over_limit" {
		t.Errorf("over the limit: %+v", d)
	}
	if d := pay("m3", 100, parts{palm: wire.AppendCapture(nil, texture(2))}); d.Outcome != wire.NotRecognized || d.Reference != "" {
		t.Errorf("a stranger's palm: %+v", d)
	}
	if d := void("m1"); d.Outcome != wire.Approved || d.Reason != "voided" {
		t.Errorf("void: %+v", d)
	}
	if d := void("m4"); d.Outcome != wire.Approved || d.Reason != "nothing_charged" {
		t.Errorf("void of nothing: %+v", d)
	}
	if d := pay("m4", 100, parts{}); d.Outcome != wire.Declined || d.Reason != "ref_used" {
		t.Errorf("a pay that arrives after its void: %+v, want declined ref_used", d)
	}
	ps := f.cloud.Payments()
	if len(ps) != 1 || ps[0].Ref != "m1" || !ps[0].Voided || ps[0].Amount != 1250 || ps[0].Reference != first.Reference {
		t.Errorf("payments %+v, want m1 alone, voided", ps)
	}
}
