package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-tpm/tpm2/transport/linuxtpm"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
)

// deviceState is what palmd keeps in its directory on the data partition
// (config update.dir): the device key, the sealed command sequence and the
// updater with its sealed slot state.
type deviceState struct {
	cfg  config.Update
	log  *slog.Logger
	key  []byte
	keys []ed25519.PublicKey // release keys; nil: update and config commands are refused
	// floor is the running release's version (update.release), 0 without one.
	floor uint64
	seq   *sequence
	// counters: one per sealed file, since each save moves its counter.
	stateCounter, seqCounter secureboot.Counter
	tpm                      io.Closer // the TPM transport, if counter is "tpm"
}

// The files in update.dir.
const (
	deviceKeyFile = "device.key"
	sequenceFile  = "sequence"
	slotStateFile = "slots"
	stagingDir    = "update"
)

// openState opens palmd's state in cfg.Dir, making the directory's files on
// first use. Without a directory it returns nil: nothing outlives a restart.
func openState(cfg config.Update, now func() time.Time, log *slog.Logger) (*deviceState, error) {
	if cfg.Dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("update.dir: %w", err)
	}
	s := &deviceState{cfg: cfg, log: log}
	var err error
	if s.key, err = secureboot.LoadDeviceKey(filepath.Join(cfg.Dir, deviceKeyFile)); err != nil {
		return nil, err
	}
	switch cfg.Counter {
	case "tpm":
		t, err := linuxtpm.Open("/dev/tpmrm0")
		if err != nil {
			return nil, fmt.Errorf("update.counter: tpm: %w", err)
		}
		s.tpm = t
		s.stateCounter = &secureboot.TPMCounter{TPM: t, Index: secureboot.DefaultTPMCounterIndex}
		s.seqCounter = &secureboot.TPMCounter{TPM: t, Index: secureboot.DefaultTPMCounterIndex + 1}
	default: // "file", config.Load has checked
		s.stateCounter = &secureboot.FileCounter{Path: filepath.Join(cfg.Dir, slotStateFile+".counter")}
		s.seqCounter = &secureboot.FileCounter{Path: filepath.Join(cfg.Dir, sequenceFile+".counter")}
	}
	f, err := secureboot.NewSealedFile(filepath.Join(cfg.Dir, sequenceFile), sequenceFile, s.key, s.seqCounter)
	if err != nil {
		return nil, s.closeWith(err)
	}
	s.seq = &sequence{store: secureboot.NewFileSequence(f), now: now, log: log}
	if cfg.Keys != "" {
		b, err := os.ReadFile(cfg.Keys)
		if err == nil {
			s.keys, err = secureboot.ParsePublicKeys(b)
		}
		if err != nil {
			return nil, s.closeWith(fmt.Errorf("update.keys: %w", err))
		}
	}
	if cfg.Release != "" {
		if s.floor, err = s.releaseVersion(); err != nil {
			return nil, s.closeWith(fmt.Errorf("update.release: %w", err))
		}
	}
	return s, nil
}

// releaseVersion verifies the running palmd against its signed release
// header and returns the header's version: the floor.
func (s *deviceState) releaseVersion() (uint64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	h, err := os.Open(s.cfg.Release)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	x, err := os.Open(exe)
	if err != nil {
		return 0, err
	}
	defer x.Close()
	m, err := secureboot.Policy{Keys: s.keys, Product: s.cfg.Product}.VerifyRelease(h, x)
	return m.Version, err
}

// slotStore is the sealed slot state.
func (s *deviceState) slotStore() (secureboot.StateStore, error) {
	f, err := secureboot.NewSealedFile(filepath.Join(s.cfg.Dir, slotStateFile), slotStateFile, s.key, s.stateCounter)
	if err != nil {
		return nil, err
	}
	return secureboot.SealedStore{File: f}, nil
}

func (s *deviceState) closeWith(err error) error { return errors.Join(err, s.Close()) }

// Close releases the TPM, if open.
func (s *deviceState) Close() error {
	if s == nil || s.tpm == nil {
		return nil
	}
	return s.tpm.Close()
}

// sequence is the sealed command sequence (uplink.Sequence). A sequence
// file found deleted, rewritten or older restarts at the kiosk's clock in
// microseconds: the cloud numbers commands at or above its own clock, so
// every command issued before the reset is refused, none issued after.
type sequence struct {
	store *secureboot.FileSequence
	now   func() time.Time
	log   *slog.Logger
}

// Accept records seq if it is above the last accepted one.
func (s *sequence) Accept(seq uint64) error {
	err := s.store.Accept(seq)
	if !errors.Is(err, secureboot.ErrTampered) {
		return err
	}
	floor := uint64(max(s.now().UnixMicro(), 0))
	s.log.Error("command sequence tampered with; commands issued before now are refused", "err", err, "floor", floor)
	if rerr := s.store.Reset(floor); rerr != nil {
		return errors.Join(err, rerr)
	}
	return s.store.Accept(seq)
}
