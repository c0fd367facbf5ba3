package secureboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Slot names a root filesystem slot.
type Slot string

// The two root slots.
const (
	SlotA Slot = "a"
	SlotB Slot = "b"
)

// Other returns the slot that is not s.
func (s Slot) Other() Slot {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

func (s Slot) valid() bool { return s == SlotA || s == SlotB }

// CmdlineParam is the kernel command line parameter that names the slot the
// system booted from, e.g. "palmd.slot=b" (each slot's boot entry sets it).
const CmdlineParam = "palmd.slot"

// maxCmdline bounds a kernel command line.
const maxCmdline = 64 << 10

// BootedSlot returns the slot named by CmdlineParam on a kernel command
// line, the contents of /proc/cmdline. The parameter must appear exactly
// once.
func BootedSlot(cmdline []byte) (Slot, error) {
	if len(cmdline) > maxCmdline {
		return "", fmt.Errorf("%w: kernel command line of %d bytes", ErrMalformed, len(cmdline))
	}
	var found Slot
	for _, f := range strings.Fields(string(cmdline)) {
		v, ok := strings.CutPrefix(f, CmdlineParam+"=")
		if !ok {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("%w: kernel command line: %s= given twice", ErrMalformed, CmdlineParam)
		}
		if found = Slot(v); !found.valid() {
			return "", fmt.Errorf("%w: kernel command line: %s=%q", ErrMalformed, CmdlineParam, v)
		}
	}
	if found == "" {
		return "", fmt.Errorf("%w: kernel command line: no %s=", ErrMalformed, CmdlineParam)
	}
	return found, nil
}

// MaxTrialBoots is how many times a trial slot is booted before it counts as
// failed: once.
const MaxTrialBoots = 1

// maxStateSize bounds the state file.
const maxStateSize = 64 << 10

// State is the A/B slot state and the anti-rollback counters.
type State struct {
	// Active is the committed slot: the one booted when no trial is pending.
	Active Slot `json:"active"`
	// Trial, if set, is the other slot, installed and waiting for (or in)
	// its trial boot; TrialBoots counts the boots it has had.
	Trial      Slot `json:"trial,omitempty"`
	TrialBoots int  `json:"trial_boots"`
	// MinFirmware and MinConfig are the anti-rollback minimums.
	MinFirmware uint64 `json:"min_firmware"`
	MinConfig   uint64 `json:"min_config"`
	// Slots describes what was last installed in each slot.
	Slots map[Slot]SlotInfo `json:"slots,omitempty"`
}

// SlotInfo describes the image installed in a slot.
type SlotInfo struct {
	Version uint64 `json:"version"`
	Release string `json:"release,omitempty"`
	SHA256  string `json:"sha256"`
	// Failed is set when the slot's trial boot did not commit.
	Failed bool `json:"failed,omitempty"`
}

// InitialState is the state of a device that has none yet: slot A (written
// at the factory) active, no trial, counters at zero.
func InitialState() State { return State{Active: SlotA} }

// Validate reports the first inconsistency in s.
func (s State) Validate() error {
	if !s.Active.valid() {
		return fmt.Errorf("%w: state: active slot %q", ErrMalformed, s.Active)
	}
	switch {
	case s.Trial == "" && s.TrialBoots != 0:
		return fmt.Errorf("%w: state: trial boots without a trial slot", ErrMalformed)
	case s.Trial != "" && s.Trial != s.Active.Other():
		return fmt.Errorf("%w: state: trial slot %q with active slot %q", ErrMalformed, s.Trial, s.Active)
	case s.TrialBoots < 0 || s.TrialBoots > MaxTrialBoots:
		return fmt.Errorf("%w: state: trial boots %d outside 0..%d", ErrMalformed, s.TrialBoots, MaxTrialBoots)
	}
	for slot := range s.Slots {
		if !slot.valid() {
			return fmt.Errorf("%w: state: slot %q", ErrMalformed, slot)
		}
	}
	if s.Trial != "" {
		if _, ok := s.Slots[s.Trial]; !ok {
			return fmt.Errorf("%w: state: trial slot %q has no image", ErrMalformed, s.Trial)
		}
	}
	return nil
}

// ParseState decodes a state file strictly and validates it.
func ParseState(b []byte) (State, error) {
	if len(b) > maxStateSize {
		return State{}, fmt.Errorf("%w: state: %d bytes, limit %d", ErrMalformed, len(b), maxStateSize)
	}
	var s State
	if err := decodeStrict(b, &s, "state"); err != nil {
		return State{}, err
	}
	if err := s.Validate(); err != nil {
		return State{}, err
	}
	return s, nil
}

// StateStore keeps the State. On a kiosk it is a sealed file on the data
// partition (SealedStore); FileStore is a plain one.
type StateStore interface {
	// Load returns the stored state, or InitialState if none was ever saved.
	Load() (State, error)
	// Save replaces the stored state atomically: after a crash, Load returns
	// either the old state or the new one.
	Save(State) error
}

// FileStore is a StateStore in one plain JSON file: anyone who can write
// the file can change it. Kiosks use SealedStore.
type FileStore struct {
	Path string
}

var _ StateStore = FileStore{}

// Load reads and validates the file; a missing file is InitialState.
func (f FileStore) Load() (State, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return InitialState(), nil
	}
	if err != nil {
		return State{}, fmt.Errorf("secureboot: %w", err)
	}
	return ParseState(b)
}

// Save writes a temporary file beside Path, syncs it, renames it over Path
// and syncs the directory.
func (f FileStore) Save(s State) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("secureboot: encoding state: %w", err)
	}
	if err := WriteFileAtomic(f.Path, append(b, '\n')); err != nil {
		return fmt.Errorf("secureboot: saving state: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
