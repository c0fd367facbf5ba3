package secureboot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
)

// ErrTampered says a sealed file was deleted, rewritten, or replaced by an
// older copy of itself.
var ErrTampered = errors.New("secureboot: state tampered with")

// DeviceKeySize is the length of the key that authenticates sealed files.
const DeviceKeySize = 32

const (
	sealedMagic   = "palmd-sealed-v1\n"
	sealedContext = "palmd sealed file v1\x00"
	maxSealedSize = 64 << 10
)

// SealedFile keeps a small document on the data partition so that changing
// it, deleting it or putting back an older copy is noticed: the file is
// authenticated with HMAC-SHA256 under the device key, and carries the value
// of Counter it was saved at.
//
// File layout: the line "palmd-sealed-v1", a line with the counter in
// decimal, a line with the MAC in hex, then the document. The MAC covers a
// context string, Name (so the state file cannot stand in for the sequence
// file), the counter and the document.
//
// Save writes the file at the counter's value plus one and then increments
// the counter (a counter still at 0 is first moved off it, since a TPM
// counter's first increment may jump); Load accepts a file at the counter's value, or one ahead of it
// (a save interrupted before its increment, which Load completes). Anything
// else is ErrTampered.
type SealedFile struct {
	Path    string
	Name    string
	Key     []byte
	Counter Counter

	mu sync.Mutex
}

// NewSealedFile checks the key and returns a SealedFile.
func NewSealedFile(path, name string, key []byte, c Counter) (*SealedFile, error) {
	if len(key) != DeviceKeySize {
		return nil, fmt.Errorf("secureboot: device key is %d bytes, want %d", len(key), DeviceKeySize)
	}
	if c == nil {
		return nil, errors.New("secureboot: sealed file needs a counter")
	}
	return &SealedFile{Path: path, Name: name, Key: key, Counter: c}, nil
}

func (f *SealedFile) mac(counter uint64, doc []byte) []byte {
	m := hmac.New(sha256.New, f.Key)
	m.Write([]byte(sealedContext))
	m.Write([]byte(f.Name))
	m.Write([]byte{0})
	m.Write(binary.BigEndian.AppendUint64(nil, counter))
	m.Write(doc)
	return m.Sum(nil)
}

// Load returns the document, or nil if none was ever saved (the file is
// missing and the counter has never moved).
func (f *SealedFile) Load() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hw, err := f.Counter.Read()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if hw == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %s is gone, but it was saved %d times", ErrTampered, f.Path, hw)
	}
	if err != nil {
		return nil, fmt.Errorf("secureboot: %w", err)
	}
	counter, doc, err := f.open(b)
	if err != nil {
		return nil, err
	}
	switch {
	case counter == hw:
	case counter == hw+1: // the last save stopped before its increment
		if _, err := f.Counter.Increment(); err != nil {
			return nil, err
		}
	case counter < hw:
		return nil, fmt.Errorf("%w: %s is an old copy (saved at %d, counter at %d)", ErrTampered, f.Path, counter, hw)
	default:
		return nil, fmt.Errorf("%w: %s is ahead of the counter (%d > %d)", ErrTampered, f.Path, counter, hw)
	}
	return doc, nil
}

// open parses and authenticates a sealed file.
func (f *SealedFile) open(b []byte) (uint64, []byte, error) {
	bad := func(why string) (uint64, []byte, error) {
		return 0, nil, fmt.Errorf("%w: %s: %s", ErrTampered, f.Path, why)
	}
	if len(b) > maxSealedSize {
		return bad("too large")
	}
	rest, ok := bytes.CutPrefix(b, []byte(sealedMagic))
	if !ok {
		return bad("not a sealed file")
	}
	line1, rest, ok1 := bytes.Cut(rest, []byte("\n"))
	line2, doc, ok2 := bytes.Cut(rest, []byte("\n"))
	if !ok1 || !ok2 {
		return bad("truncated")
	}
	counter, err := strconv.ParseUint(string(line1), 10, 64)
	if err != nil {
		return bad("bad counter line")
	}
	sum, err := hex.DecodeString(string(line2))
	if err != nil || !hmac.Equal(sum, f.mac(counter, doc)) {
		return bad("authentication failed (rewritten, or sealed with another device key)")
	}
	return counter, doc, nil
}

// Save replaces the document.
func (f *SealedFile) Save(doc []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(doc)+len(sealedMagic)+100 > maxSealedSize {
		return fmt.Errorf("secureboot: sealed document of %d bytes is too large", len(doc))
	}
	hw, err := f.Counter.Read()
	if err != nil {
		return err
	}
	if hw == 0 {
		// A TPM counter's first increment may jump; from then on each adds
		// one, which the save-then-increment order below relies on.
		if hw, err = f.Counter.Increment(); err != nil {
			return err
		}
	}
	next := hw + 1
	var b bytes.Buffer
	b.WriteString(sealedMagic)
	b.WriteString(strconv.FormatUint(next, 10) + "\n")
	b.WriteString(hex.EncodeToString(f.mac(next, doc)) + "\n")
	b.Write(doc)
	if err := WriteFileAtomic(f.Path, b.Bytes()); err != nil {
		return fmt.Errorf("secureboot: saving %s: %w", f.Path, err)
	}
	if _, err := f.Counter.Increment(); err != nil {
		return err
	}
	return nil
}

// SealedStore is the StateStore for a kiosk: the State in a SealedFile.
// Its Load returns ErrTampered for a deleted, rewritten or older state file;
// the Updater then rebuilds a safe state from what it can trust (the slot it
// booted and the floor of the running release) and seals it again.
type SealedStore struct {
	File *SealedFile
}

var _ StateStore = SealedStore{}

// Load returns the state, InitialState if none was ever saved, or an error
// wrapping ErrTampered.
func (s SealedStore) Load() (State, error) {
	doc, err := s.File.Load()
	if err != nil {
		return State{}, err
	}
	if doc == nil {
		return InitialState(), nil
	}
	st, err := ParseState(doc)
	if err != nil {
		// Authenticated but not a state: a bug or a key shared with
		// another writer, never an accident of the disk.
		return State{}, fmt.Errorf("%w: %w", ErrTampered, err)
	}
	return st, nil
}

// Save seals the state.
func (s SealedStore) Save(st State) error {
	if err := st.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("secureboot: encoding state: %w", err)
	}
	return s.File.Save(b)
}
