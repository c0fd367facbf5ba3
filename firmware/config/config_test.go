package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Two Ed25519 public keys (any 32 bytes decode) and a technicians entry.
const (
	key0 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	key1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
)

func tech(role, key, name string) string {
	return fmt.Sprintf(`{"role":%q,"key":%q,"name":%q}`, role, key, name)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"empty object keeps defaults", `{}`, ""},
		{"device id", `{"device_id":"store-12-kiosk-3"}`, ""},
		{"unknown field", `{"devce_id":"x"}`, "1:2: devce_id: unknown field (valid fields: console, device_id,"},
		{"bad device id", `{"device_id":"Kiosk 1"}`, "device_id"},
		{"empty device id", `{"device_id":""}`, "device_id"},
		{"bad hardware", `{"hardware":"real"}`, "hardware"},
		{"trailing", `{} {}`, "trailing"},
		{"not json", `device_id=x`, "config:"},
		{"pos link", `{"pos":{"listen":"127.0.0.1:7700","serial":"/dev/ttyS1","baud":9600}}`, ""},
		{"pos on a public address", `{"pos":{"listen":"0.0.0.0:7700"}}`, "pos.listen: \"0.0.0.0:7700\": want a loopback address"},
		{"pos serial relative", `{"pos":{"serial":"ttyS1"}}`, "pos.serial"},
		{"pos baud", `{"pos":{"serial":"/dev/ttyS1","baud":7}}`, "pos.baud: 7: want 1200 to 921600"},
		{"technicians", `{"console":{"technicians":[` + tech("technician", key0, "alice") + `,` + tech("factory", key1, "fab.1") + `]}}`, ""},
		{"technician role", `{"console":{"technicians":[` + tech("technician", key0, "alice") + `,` + tech("admin", key1, "bob") + `]}}`,
			`console.technicians[1].role: "admin": want "technician" or "factory"`},
		{"technician key missing", `{"console":{"technicians":[` + tech("technician", "", "alice") + `]}}`,
			"console.technicians[0].key: must not be empty: want a base64 Ed25519 public key"},
		{"technician key not base64", `{"console":{"technicians":[` + tech("technician", "not base64!", "alice") + `]}}`,
			"console.technicians[0].key: not standard base64"},
		{"technician key short", `{"console":{"technicians":[` + tech("technician", "AAAA", "alice") + `]}}`,
			"console.technicians[0].key: 3 bytes, want 32 (an Ed25519 public key)"},
		{"technician name", `{"console":{"technicians":[` + tech("technician", key0, "alice smith") + `]}}`,
			`console.technicians[0].name: "alice smith": want 1 to 32 of a-z, A-Z, 0-9, '.', '_' and '-'`},
		{"technician name empty", `{"console":{"technicians":[` + tech("factory", key0, "") + `]}}`, `console.technicians[0].name: ""`},
		{"technician name twice", `{"console":{"technicians":[` + tech("technician", key0, "alice") + `,` + tech("factory", key1, "alice") + `]}}`,
			`console.technicians[1].name: "alice": technicians[0] has it too`},
		{"technician unknown field", `{"console":{"technicians":[{"role":"factory","pub":"x"}]}}`, "console.technicians[0].pub: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if c.Hardware != "sim" {
					t.Errorf("hardware default lost: %q", c.Hardware)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

// TestMarshalledConfigParses: a Config written out (as tests and tools
// write one) reads back: an empty list is left out, not written as null,
// which Parse refuses.
func TestMarshalledConfigParses(t *testing.T) {
	withTech := Default()
	withTech.Console.Technicians = []Technician{{Role: RoleFactory, Key: key0, Name: "fab"}}
	for _, c := range []Config{Default(), withTech} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s): %v", b, err)
		}
		if len(got.Console.Technicians) != len(c.Console.Technicians) {
			t.Errorf("technicians %v, want %v", got.Console.Technicians, c.Console.Technicians)
		}
	}
}
