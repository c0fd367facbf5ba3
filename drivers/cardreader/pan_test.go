package cardreader

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestParsePAN(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"4539578763621486", nil},
		{"5555555555554444", nil},
		{"4111111111111111", nil},
		{"4539578763621487", ErrBadPAN}, // Luhn fails
		{"45395787636", ErrBadPAN},      // too short
		{"45395787636214860000", ErrBadPAN},
		{"4539 5787 6362 1486", ErrBadPAN},
		{"", ErrBadPAN},
	}
	for _, tt := range tests {
		p, err := ParsePAN([]byte(tt.in))
		if !errors.Is(err, tt.want) {
			t.Errorf("ParsePAN(%q) = %v, want %v", tt.in, err, tt.want)
		}
		if err == nil && string(p.Digits()) != tt.in {
			t.Errorf("ParsePAN(%q).Digits() = %q", tt.in, p.Digits())
		}
		if err != nil && strings.Contains(err.Error(), "5787") {
			t.Errorf("error %q carries digits of the number", err)
		}
	}
}

func TestPANNeverPrints(t *testing.T) {
	const num = "4539578763621486"
	p, err := ParsePAN([]byte(num))
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("card", "pan", p, "card", Card{PAN: p})
	js, _ := json.Marshal(Card{PAN: p})
	outs := map[string]string{
		"%v": fmt.Sprintf("%v", p), "%s": fmt.Sprintf("%s", p), "%d": fmt.Sprintf("%d", p),
		"%x": fmt.Sprintf("%x", p), "%#v": fmt.Sprintf("%#v", p), "%+v card": fmt.Sprintf("%+v", Card{PAN: p}),
		"json": string(js), "slog": logged.String(), "error": fmt.Errorf("wrapped %v", p).Error(),
	}
	for how, out := range outs {
		if strings.Contains(out, num[:12]) || strings.Contains(out, "4539") {
			t.Errorf("%s prints the number: %q", how, out)
		}
		if !strings.Contains(out, "1486") {
			t.Errorf("%s lost the last four digits: %q", how, out)
		}
	}
}

func TestPANZero(t *testing.T) {
	p, _ := ParsePAN([]byte("4539578763621486"))
	d := p.Digits()
	p.Zero()
	for _, c := range d {
		if c != 0 {
			t.Fatalf("Zero left %q", d)
		}
	}
}
