package cloud_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// kiosk is one kiosk's connection to the embedded server and its sealers.
type kiosk struct {
	id        string
	c         *uplink.Client
	palm, pay *seal.Sealer
}

func dialKiosk(t *testing.T, d *dev.Dev, id string) *kiosk {
	t.Helper()
	creds, err := d.Authority.Device(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := uplink.Dial(d.URL, id, d.SignKey, d.KioskOptions(creds)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	k := &kiosk{id: id, c: c}
	k.palm, _ = seal.NewSealer(d.SealKey)
	k.pay, _ = seal.NewSealer(d.PaymentKey)
	return k
}

// do sends one request of flow f with person's palm and the clear phone and
// card given (nil: not sent).
func (k *kiosk) do(t *testing.T, id string, f wire.Flow, person uint64, phone, card []byte) wire.Decision {
	t.Helper()
	r := wire.Request{ID: id, Device: k.id, Flow: f, Time: time.Now()}
	r.Palm, _ = k.palm.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, region(person)))
	if phone != nil {
		r.Phone, _ = k.palm.Seal(seal.ContextOf(r, seal.PartPhone), phone)
	}
	if card != nil {
		r.Card, _ = k.pay.Seal(seal.ContextOf(r, seal.PartCard), card)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dec, err := k.c.Do(ctx, r)
	for err == uplink.ErrNotConnected && ctx.Err() == nil { // still connecting
		time.Sleep(10 * time.Millisecond)
		dec, err = k.c.Do(ctx, r)
	}
	if err != nil {
		t.Fatalf("%s %s from %s: %v", f, id, k.id, err)
	}
	return dec
}

// TestDeleteOverNATS: through the real NATS server, a deletion with the
// right palm and a wrong card, or from another kiosk with the palm alone
// or someone else's factor, deletes nothing and answers exactly as a
// stranger's palm does; the palm with the person's own card deletes.
func TestDeleteOverNATS(t *testing.T) { devtest.Bubble(t, testDeleteOverNATS) }

func testDeleteOverNATS(t *testing.T) {
	d, err := dev.StartInProcess(t.Context(), "kiosk-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	home, away := dialKiosk(t, d, "kiosk-1"), dialKiosk(t, d, "kiosk-2")
	phone, card := []byte("5550100200"), []byte("4539578763621486")
	enrolled := home.do(t, "enrol", wire.FlowEnrol, 1, phone, card)
	if enrolled.Outcome != wire.Approved {
		t.Fatalf("enrol: %+v", enrolled)
	}
	if d := home.do(t, "enrol-2", wire.FlowEnrol, 2, []byte("5550100300"), []byte("5555555555554444")); d.Outcome != wire.Approved {
		t.Fatalf("enrol another: %+v", d)
	}
	tests := []struct {
		name        string
		k           *kiosk
		person      uint64
		phone, card []byte
	}{
		{"right palm, wrong card", home, 1, nil, []byte("5555555555554444")},
		{"right palm, wrong phone", home, 1, []byte("5550100300"), nil},
		{"another kiosk, palm alone", away, 1, nil, nil},
		{"another kiosk, someone else's card", away, 1, nil, []byte("4111111111111111")},
		{"a stranger's palm with the card", away, 9, nil, card},
	}
	var first wire.Decision
	for i, tt := range tests {
		dec := tt.k.do(t, fmt.Sprint("del-", i), wire.FlowDelete, tt.person, tt.phone, tt.card)
		dec.Request = ""
		if i == 0 {
			first = dec
		}
		if dec.Outcome != wire.NotRecognized || dec != first {
			t.Errorf("%s: %+v, want not_recognized, the same as every other failure (%+v)", tt.name, dec, first)
		}
		if n := d.Cloud.Enrolled(); n != 2 {
			t.Fatalf("%s: %d enrolments left, want 2", tt.name, n)
		}
	}
	if dec := home.do(t, "identify", wire.FlowIdentify, 1, nil, nil); dec.Subject != enrolled.Subject {
		t.Fatalf("the person after failed deletions: %+v", dec)
	}
	dec := away.do(t, "delete", wire.FlowDelete, 1, nil, card)
	if dec.Outcome != wire.Approved || dec.Subject != enrolled.Subject {
		t.Fatalf("palm and own card at another kiosk: %+v, want approved", dec)
	}
	if n := d.Cloud.Enrolled(); n != 1 {
		t.Fatalf("%d enrolments after the deletion, want the other person's", n)
	}
}
