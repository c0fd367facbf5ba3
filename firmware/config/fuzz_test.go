package config

import (
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes (the seeds are testdata/*.json and
// testdata/fuzz/FuzzParse): it must never panic, every refusal must say
// "config: ", and whatever it accepts must validate and carry keys of the
// right sizes.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"hardware":"linux","linux":{"card_reader":{"baud":"fast"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			if strings.Contains(err.Error(), "internal") {
				t.Fatalf("shape check and decoder disagree: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted a config that does not validate: %v", err)
		}
		k := c.Uplink.Keys
		if (k.Seal != nil && len(k.Seal) != HPKEKeySize) || (k.Sign != nil && len(k.Sign) != 32) {
			t.Fatalf("key sizes %d/%d", len(k.Seal), len(k.Sign))
		}
	})
}
