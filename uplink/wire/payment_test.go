package wire

import (
	"errors"
	"testing"
	"time"
)

func TestPaymentRequests(t *testing.T) {
	pay := func(p *Payment) Request {
		return Request{ID: "r1", Device: "k1", Flow: FlowPay, Time: time.Unix(1, 0), Palm: []byte{1}, Payment: p}
	}
	good := Payment{Ref: "m1", Amount: 1250, Currency: "EUR", Merchant: "Corner Shop"}
	with := func(f func(*Payment)) *Payment { p := good; f(&p); return &p }
	tests := []struct {
		name string
		r    Request
		ok   bool
	}{
		{"pay", pay(&good), true},
		{"pay without payment", pay(nil), false},
		{"pay without palm", func() Request { r := pay(&good); r.Palm = nil; return r }(), false},
		{"zero amount", pay(with(func(p *Payment) { p.Amount = 0 })), false},
		{"negative amount", pay(with(func(p *Payment) { p.Amount = -5 })), false},
		{"amount over the limit", pay(with(func(p *Payment) { p.Amount = MaxAmount + 1 })), false},
		{"lower-case currency", pay(with(func(p *Payment) { p.Currency = "eur" })), false},
		{"merchant with a newline", pay(with(func(p *Payment) { p.Merchant = "a\nb" })), false},
		{"ref with a dot", pay(with(func(p *Payment) { p.Ref = "m.1" })), false},
		{"void", Request{ID: "r2", Device: "k1", Flow: FlowVoid, Time: time.Unix(1, 0), Payment: &Payment{Ref: "m1"}}, true},
		{"void with a palm", Request{ID: "r2", Device: "k1", Flow: FlowVoid, Time: time.Unix(1, 0), Palm: []byte{1}, Payment: &Payment{Ref: "m1"}}, false},
		{"void without ref", Request{ID: "r2", Device: "k1", Flow: FlowVoid, Time: time.Unix(1, 0), Payment: &Payment{}}, false},
		{"age", Request{ID: "r4", Device: "k1", Flow: FlowAge, Time: time.Unix(1, 0), Palm: []byte{1}, Over: 18}, true},
		{"age without over", Request{ID: "r4", Device: "k1", Flow: FlowAge, Time: time.Unix(1, 0), Palm: []byte{1}}, false},
		{"age over 200", Request{ID: "r4", Device: "k1", Flow: FlowAge, Time: time.Unix(1, 0), Palm: []byte{1}, Over: 200}, false},
		{"identify with over", Request{ID: "r4", Device: "k1", Flow: FlowIdentify, Time: time.Unix(1, 0), Palm: []byte{1}, Over: 18}, false},
		{"loyalty", Request{ID: "r5", Device: "k1", Flow: FlowLoyalty, Time: time.Unix(1, 0), Palm: []byte{1}}, true},
		{"identify with a payment", Request{ID: "r3", Device: "k1", Flow: FlowIdentify, Time: time.Unix(1, 0), Palm: []byte{1}, Payment: &good}, false},
	}
	for _, tt := range tests {
		err := tt.r.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
