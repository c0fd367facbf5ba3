package config

import (
	"crypto/ed25519"
	"fmt"
)

// Console is the technician's console (package firmware/console): who may
// log in. It arrives in the signed config like everything else here, and a
// new signed config applies it while palmd runs: a key removed can log in
// no more, and a session open with it ends.
type Console struct {
	// Technicians are the keys allowed to log in.
	Technicians []Technician `json:"technicians,omitempty"`
}

// Technician is one allowed console key.
type Technician struct {
	// Role is "technician" or "factory" (a factory key may also provision).
	Role string `json:"role"`
	// Key is the holder's Ed25519 public key, standard base64.
	Key string `json:"key"`
	// Name is the login name (ValidLoginName).
	Name string `json:"name"`
}

// Console roles.
const (
	RoleTechnician = "technician"
	RoleFactory    = "factory"
)

// PublicKey is t's key decoded; nil if it is not valid (Load refuses that).
func (t Technician) PublicKey() ed25519.PublicKey {
	b, msg := decodeKey(t.Key, ed25519.PublicKeySize, "an Ed25519 public key")
	if msg != "" || b == nil {
		return nil
	}
	return ed25519.PublicKey(b)
}

func (c Console) check() string {
	names := map[string]int{}
	for i, t := range c.Technicians {
		at := fmt.Sprintf("technicians[%d]", i)
		if t.Role != RoleTechnician && t.Role != RoleFactory {
			return fmt.Sprintf("%s.role: %q: want %q or %q", at, t.Role, RoleTechnician, RoleFactory)
		}
		if t.Key == "" {
			return fmt.Sprintf("%s.key: must not be empty: want a base64 Ed25519 public key", at)
		}
		if _, msg := decodeKey(t.Key, ed25519.PublicKeySize, "an Ed25519 public key"); msg != "" {
			return fmt.Sprintf("%s.key: %s", at, msg)
		}
		if !ValidLoginName(t.Name) {
			return fmt.Sprintf("%s.name: %q: want %s", at, t.Name, LoginNames)
		}
		if j, ok := names[t.Name]; ok {
			return fmt.Sprintf("%s.name: %q: technicians[%d] has it too; names must differ", at, t.Name, j)
		}
		names[t.Name] = i
	}
	return ""
}

// LoginNames says which login names ValidLoginName accepts.
const LoginNames = "1 to 32 of a-z, A-Z, 0-9, '.', '_' and '-'"

// ValidLoginName reports whether s is a name the console's login command
// takes (LoginNames).
func ValidLoginName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
