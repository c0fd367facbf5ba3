package wire

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// CommandType names a cloud→device command.
type CommandType string

// The commands the cloud sends to a kiosk.
const (
	// CmdDeleteMyData asks the kiosk to forget anything it holds about a
	// subject (local caches, pending telemetry) after the cloud deleted the
	// enrolment.
	CmdDeleteMyData CommandType = "delete_my_data"
	// CmdConfig carries a new signed device configuration document.
	CmdConfig CommandType = "config"
	// CmdUpdate announces a firmware bundle to fetch and verify.
	CmdUpdate CommandType = "update"
)

// MaxConfig bounds the configuration document a CmdConfig carries.
const MaxConfig = 16 << 10

// Command is a cloud→device instruction. It travels inside a signed Statement.
type Command struct {
	Type CommandType `json:"type"`
	// Subject is the pseudonym CmdDeleteMyData refers to.
	Subject string `json:"subject,omitempty"`
	// Config is the configuration document of CmdConfig.
	Config json.RawMessage `json:"config,omitempty"`
	// Update describes the bundle of CmdUpdate.
	Update *Update `json:"update,omitempty"`
}

// Update names a firmware bundle.
type Update struct {
	Version string `json:"version"`
	URL     string `json:"url"`
	// SHA256 is the bundle digest, hex.
	SHA256 string `json:"sha256"`
}

// Validate checks that c carries exactly what its type needs.
func (c Command) Validate() error {
	ok := false
	switch c.Type {
	case CmdDeleteMyData:
		ok = validID(c.Subject) && c.Config == nil && c.Update == nil
	case CmdConfig:
		ok = c.Subject == "" && len(c.Config) > 0 && len(c.Config) <= MaxConfig && json.Valid(c.Config) && c.Update == nil
	case CmdUpdate:
		ok = c.Subject == "" && c.Config == nil && c.Update != nil && printable(c.Update.Version, maxID) &&
			printable(c.Update.URL, 1024) && isHex(c.Update.SHA256, 64)
	}
	if !ok {
		return fmt.Errorf("%w: command", ErrMalformed)
	}
	return nil
}

// isHex reports whether s is n hex digits.
func isHex(s string, n int) bool {
	_, err := hex.DecodeString(s)
	return len(s) == n && err == nil
}
