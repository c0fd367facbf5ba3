package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palmd/palmd/firmware/config"
)

// TestKeygen: keygen writes a key palmctl logs in with and prints its
// entry for the signed config's console.technicians, which palmd accepts.
func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args    []string
		wantErr string
		role    string
	}{
		{args: []string{"-user", "alice"}, wantErr: "keygen: -key and -user are required"},
		{args: []string{"-key", "k"}, wantErr: "keygen: -key and -user are required"},
		{args: []string{"-key", "k", "-user", "alice", "-role", "admin"}, wantErr: `keygen: -role "admin": want technician or factory`},
		{args: []string{"-key", "k", "-user", "alice smith"}, wantErr: `keygen: -user "alice smith": want 1 to 32 of a-z, A-Z, 0-9, '.', '_' and '-'`},
		{args: []string{"-key", "k", "-user", strings.Repeat("a", 33)}, wantErr: `keygen: -user "` + strings.Repeat("a", 33) + `": want 1 to 32 of a-z, A-Z, 0-9, '.', '_' and '-'`},
		{args: []string{"-key", filepath.Join(dir, "alice.key"), "-user", "alice"}, role: "technician"},
		{args: []string{"-key", filepath.Join(dir, "fab.key"), "-user", "fab", "-role", "factory"}, role: "factory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errs strings.Builder
			err := keygen(tt.args, &out, &errs)
			if tt.wantErr != "" {
				var u usageError
				if !errors.As(err, &u) || err.Error() != tt.wantErr {
					t.Fatalf("keygen: %v, want usage error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var tech config.Technician
			if err := json.Unmarshal([]byte(out.String()), &tech); err != nil {
				t.Fatalf("keygen printed %q: %v", out.String(), err)
			}
			if tech.Role != tt.role || tech.Name != tt.args[3] {
				t.Errorf("entry %+v, want role %s, name %s", tech, tt.role, tt.args[3])
			}
			doc := fmt.Sprintf(`{"console": {"technicians": [%s]}}`, out.String())
			if _, err := config.Parse([]byte(doc)); err != nil {
				t.Errorf("palmd refuses the entry: %v", err)
			}
			priv, err := loadKey(tt.args[1])
			if err != nil {
				t.Fatal(err)
			}
			if !priv.Public().(ed25519.PublicKey).Equal(tech.PublicKey()) {
				t.Error("the entry's key is not the written key's")
			}
		})
	}
}
