package config

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"empty object keeps defaults", `{}`, ""},
		{"device id", `{"device_id":"store-12-kiosk-3"}`, ""},
		{"unknown field", `{"devce_id":"x"}`, "1:2: devce_id: unknown field (valid fields: device_id,"},
		{"bad device id", `{"device_id":"Kiosk 1"}`, "device_id"},
		{"empty device id", `{"device_id":""}`, "device_id"},
		{"bad hardware", `{"hardware":"real"}`, "hardware"},
		{"trailing", `{} {}`, "trailing"},
		{"not json", `device_id=x`, "config:"},
		{"pos link", `{"pos":{"listen":"127.0.0.1:7700","serial":"/dev/ttyS1","baud":9600}}`, ""},
		{"pos on a public address", `{"pos":{"listen":"0.0.0.0:7700"}}`, "pos.listen: \"0.0.0.0:7700\": want a loopback address"},
		{"pos serial relative", `{"pos":{"serial":"ttyS1"}}`, "pos.serial"},
		{"pos baud", `{"pos":{"serial":"/dev/ttyS1","baud":7}}`, "pos.baud: 7: want 1200 to 921600"},
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
