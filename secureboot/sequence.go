package secureboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ErrReplay is returned for a command whose sequence number is not above
// the last one accepted.
var ErrReplay = errors.New("secureboot: replayed command")

// SequenceStore is the last command sequence number this device accepted
// from the cloud. The cloud numbers each device's commands from 1 upwards;
// the store outlives restarts, so a command replayed after a restart (when
// an in-memory nonce cache is empty and the command may still be within its
// validity window) is refused.
type SequenceStore interface {
	// Last returns the highest sequence accepted, 0 if none.
	Last() (uint64, error)
	// Accept records seq if it is above Last, durably before it returns,
	// and returns an error wrapping ErrReplay otherwise.
	Accept(seq uint64) error
}

// FileSequence is a SequenceStore in a SealedFile: deleting the file or
// putting back an older copy is ErrTampered, not a reset to 0.
type FileSequence struct {
	file *SealedFile

	mu sync.Mutex
}

var _ SequenceStore = (*FileSequence)(nil)

// NewFileSequence returns the sequence store kept in f.
func NewFileSequence(f *SealedFile) *FileSequence { return &FileSequence{file: f} }

type sequenceDoc struct {
	Last uint64 `json:"last"`
}

// Last returns the highest sequence accepted.
func (s *FileSequence) Last() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last()
}

func (s *FileSequence) last() (uint64, error) {
	b, err := s.file.Load()
	if err != nil || b == nil {
		return 0, err
	}
	var d sequenceDoc
	if err := decodeStrict(b, &d, "sequence"); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTampered, err)
	}
	return d.Last, nil
}

// Accept records seq if it is above the last accepted one.
func (s *FileSequence) Accept(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, err := s.last()
	if err != nil {
		return err
	}
	if seq <= last {
		return fmt.Errorf("%w: sequence %d, last accepted %d", ErrReplay, seq, last)
	}
	b, err := json.Marshal(sequenceDoc{Last: seq})
	if err != nil {
		return err
	}
	return s.file.Save(b)
}

// Reset records last as the highest sequence accepted, whatever the file
// held: palmd's way out of a sequence file found tampered with (it resets
// to the clock, below which the cloud numbers no new command).
func (s *FileSequence) Reset(last uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(sequenceDoc{Last: last})
	if err != nil {
		return err
	}
	return s.file.Save(b)
}
