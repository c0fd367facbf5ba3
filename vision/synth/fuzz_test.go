package synth

import (
	"errors"
	"testing"
)

// Scenario files name presentations and conditions; the parsers must accept
// exactly the names String gives and reject everything else cleanly.

func FuzzParsePresentation(f *testing.F) {
	for p := Genuine; p <= RigidReplica; p++ {
		f.Add(p.String())
	}
	f.Add("")
	f.Add("GENUINE")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePresentation(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownPresentation) {
				t.Fatalf("ParsePresentation(%q): error %v is not ErrUnknownPresentation", s, err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePresentation(%q) = %v, which prints as %q", s, p, p.String())
		}
	})
}

func FuzzParseCondition(f *testing.F) {
	for c := Good; c <= Bright; c++ {
		f.Add(c.String())
	}
	f.Add("")
	f.Add("off_center")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownCondition) {
				t.Fatalf("ParseCondition(%q): error %v is not ErrUnknownCondition", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("ParseCondition(%q) = %v, which prints as %q", s, c, c.String())
		}
	})
}
