package firmware

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestPhoneRedacts(t *testing.T) {
	p := newPhone()
	for _, d := range []byte("5550100200") {
		p.add(d)
	}
	js, _ := json.Marshal(struct{ P *phone }{p})
	for how, out := range map[string]string{
		"%v": fmt.Sprintf("%v", p), "%s": fmt.Sprintf("%s", p), "%#v": fmt.Sprintf("%#v", p),
		"%q": fmt.Sprintf("%q", p), "json": string(js), "masked": p.masked(),
	} {
		if strings.Contains(out, "0100") || strings.Contains(out, "555") {
			t.Errorf("%s leaks the number: %q", how, out)
		}
	}
	if got := p.masked(); got != "********00" {
		t.Errorf("masked = %q, want ********00", got)
	}
}

func TestPhoneEditing(t *testing.T) {
	tests := []struct {
		keys  string // digits, 'b' for backspace
		want  string
		valid bool
	}{
		{"5550100200", "5550100200", true},
		{"555010", "555010", false},
		{"55501002b0", "55501000", true},
		{"1234567890123456789", "123456789012345", true}, // capped at 15
		{"bb1", "1", false},
	}
	for _, tt := range tests {
		p := newPhone()
		for _, k := range []byte(tt.keys) {
			if k == 'b' {
				p.back()
			} else {
				p.add(k)
			}
		}
		if string(p.digits) != tt.want || (p.valid() == nil) != tt.valid {
			t.Errorf("keys %q: digits %q valid %v, want %q %v", tt.keys, p.digits, p.valid() == nil, tt.want, tt.valid)
		}
		full := p.digits[:cap(p.digits)]
		p.zero()
		for _, c := range full {
			if c != 0 {
				t.Fatalf("zero left digits behind")
			}
		}
	}
}
