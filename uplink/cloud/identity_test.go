package cloud

import (
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

func TestLoyaltyAndAge(t *testing.T) {
	f := newFixture(t)
	enrolled := f.handle(t, f.request(t, "enrol", wire.FlowEnrol, parts{phone: []byte("5550100200"), card: []byte("4539578763621486")}))
	if enrolled.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", enrolled)
	}
	ask := func(id string, fl wire.Flow, over int, p parts) wire.Decision {
		r := f.request(t, id, fl, p)
		r.Over = over
		return f.handle(t, r)
	}
	l1, l2 := ask("l1", wire.FlowLoyalty, 0, parts{}), ask("l2", wire.FlowLoyalty, 0, parts{device: "kiosk-2"})
	if l1.Outcome != wire.Approved || len(l1.Reference) != 17 || l1.Reference != l2.Reference {
		t.Errorf("loyalty ids %+v and %+v: want one id at every kiosk", l1, l2)
	}
	if d := ask("l3", wire.FlowLoyalty, 0, parts{palm: wire.AppendCapture(nil, texture(2))}); d.Outcome != wire.NotRecognized || d.Reference != "" {
		t.Errorf("a stranger's loyalty: %+v", d)
	}
	if err := f.cloud.SetBirthDate("sub-nobody", time.Now()); err == nil {
		t.Error("a birth date for no subject was taken")
	}
	tests := []struct {
		born   time.Time // zero: none on file
		over   int
		want   wire.Outcome
		reason string
	}{
		{time.Time{}, 18, wire.Declined, "not_over"},
		{f.now.AddDate(-18, 0, 0), 18, wire.Approved, "over"},
		{f.now.AddDate(-18, 0, 1), 18, wire.Declined, "not_over"},
		{f.now.AddDate(-40, 0, 0), 21, wire.Approved, "over"},
		{f.now.AddDate(-40, 0, 0), 65, wire.Declined, "not_over"},
	}
	for i, tt := range tests {
		if !tt.born.IsZero() {
			if err := f.cloud.SetBirthDate(enrolled.Subject, tt.born); err != nil {
				t.Fatal(err)
			}
		}
		d := ask("a"+string(rune('a'+i)), wire.FlowAge, tt.over, parts{})
		if d.Outcome != tt.want || d.Reason != tt.reason || d.Reference != "" {
			t.Errorf("born %s, over %d: %+v, want %s %s and nothing else", tt.born.Format(time.DateOnly), tt.over, d, tt.want, tt.reason)
		}
	}
}
