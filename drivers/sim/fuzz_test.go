package sim

import (
	"testing"
)

// FuzzParseScenario feeds scenario documents (the built-ins seed it) and
// checks that parsing never panics and that whatever parses is playable:
// every step holds exactly one valid action.
func FuzzParseScenario(f *testing.F) {
	for _, n := range Builtin() {
		b, err := builtin.ReadFile("scenarios/" + n + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"name":"x","steps":[{"type":"1[enter"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScenario(b)
		if err != nil {
			return
		}
		for i, st := range s.Steps {
			if err := st.validate(); err != nil {
				t.Fatalf("step %d parsed but does not validate: %v", i, err)
			}
		}
	})
}
