package console

import (
	"strings"
	"testing"
)

// FuzzParse feeds the line parser anything a cable can carry: it never
// panics, and what it accepts is printable words, with the JSON switch
// taken out of them.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"status", "status --json", "status | json", "test card", "", "\x00\xff", "| json",
		"login alice", strings.Repeat("a", MaxLine+1), "maintenance on\r\n", "logs | yaml"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		if l.Name == "" || len(l.Args) > maxArgs {
			t.Fatalf("Parse(%q) = %+v: accepted an empty name or too many words", s, l)
		}
		for _, w := range append([]string{l.Name}, l.Args...) {
			if w == "" || strings.EqualFold(w, "--json") || strings.ContainsAny(w, " \t\r\n") {
				t.Fatalf("Parse(%q): word %q", s, w)
			}
			for i := 0; i < len(w); i++ {
				if w[i] < ' ' || w[i] > '~' {
					t.Fatalf("Parse(%q): word %q holds byte 0x%02x", s, w, w[i])
				}
			}
		}
	})
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Line
		wantErr string
	}{
		{in: "status", want: Line{Name: "status"}},
		{in: "  STATUS  --json ", want: Line{Name: "status", JSON: true}},
		{in: "status | json", want: Line{Name: "status", JSON: true}},
		{in: "Status --JSON", want: Line{Name: "status", JSON: true}},
		{in: "status | JSON", want: Line{Name: "status", JSON: true}},
		{in: "--Json", wantErr: "empty line"},
		{in: "test\tcard", want: Line{Name: "test", Args: []string{"card"}}},
		{in: "", wantErr: "empty line"},
		{in: "status | yaml", wantErr: `want "| json"`},
		{in: "status | json extra", wantErr: "a pipe goes last"},
		{in: "stat\x00us", wantErr: "byte 5 is 0x00: want printable ASCII"},
		{in: strings.Repeat("x", MaxLine+1), wantErr: "at most 1024"},
		{in: "a" + strings.Repeat(" b", maxArgs+1), wantErr: "arguments, at most"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.Name != tt.want.Name || got.JSON != tt.want.JSON || strings.Join(got.Args, ",") != strings.Join(tt.want.Args, ",") {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
