package config

import "testing"

func TestSyntaxErrorPosition(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"{\n  \"hardware\": tru\n}", "config: 2:18: "},
		{"{\n  \"device_id\": \"x\",,\n}", "config: 2:20: "},
		{"{\n  \"device_id\" \"x\"\n}", "config: 2:15: "},
		{"[1]", "config: 1:1: want an object, got a list"},
		{"{\"linux\":{\"camera\":{\"width\":1.5}}}", "config: 1:29: linux.camera.width: want a whole number that fits in 64 bits, got 1.5"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc))
		if err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("Parse(%q) = %v, want it to start %q", tt.doc, err, tt.want)
		}
	}
}
