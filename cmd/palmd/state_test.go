package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
)

// TestSequenceSurvivesRestart: palmd's command sequence lives in update.dir;
// a palmd started again refuses what the last one accepted, and a sequence
// file deleted or put back from an older copy restarts at the clock instead
// of at 0.
func TestSequenceSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	cfg := config.Update{Dir: dir, Counter: "file", Updater: "file", Product: "palmkiosk"}
	start := func() *deviceState {
		s, err := openState(cfg, func() time.Time { return now }, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := start()
	for _, tt := range []struct {
		seq  uint64
		want error
	}{{5, nil}, {5, secureboot.ErrReplay}, {4, secureboot.ErrReplay}, {9, nil}} {
		if err := s.seq.Accept(tt.seq); !errors.Is(err, tt.want) {
			t.Fatalf("Accept(%d) = %v, want %v", tt.seq, err, tt.want)
		}
	}
	old, err := os.ReadFile(filepath.Join(dir, sequenceFile))
	if err != nil {
		t.Fatal(err)
	}

	s = start() // restart
	if err := s.seq.Accept(9); !errors.Is(err, secureboot.ErrReplay) {
		t.Fatalf("after a restart, Accept(9) = %v, want ErrReplay", err)
	}
	if err := s.seq.Accept(10); err != nil {
		t.Fatal(err)
	}

	clock := uint64(now.UnixMicro())
	for name, tamper := range map[string]func() error{
		"deleted":    func() error { return os.Remove(filepath.Join(dir, sequenceFile)) },
		"older copy": func() error { return os.WriteFile(filepath.Join(dir, sequenceFile), old, 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := tamper(); err != nil {
				t.Fatal(err)
			}
			s := start()
			if err := s.seq.Accept(11); !errors.Is(err, secureboot.ErrReplay) {
				t.Fatalf("Accept(11) after the file was %s = %v, want ErrReplay (reset to the clock)", name, err)
			}
			if err := s.seq.Accept(clock); !errors.Is(err, secureboot.ErrReplay) {
				t.Fatalf("Accept(clock) = %v, want ErrReplay", err)
			}
			if err := s.seq.Accept(clock + 1); err != nil {
				t.Fatalf("Accept(clock+1) = %v", err)
			}
		})
	}
}

// TestStateWithoutDir: no update.dir, no state (and no sequence option).
func TestStateWithoutDir(t *testing.T) {
	s, err := openState(config.Update{Counter: "file", Updater: "file", Product: "palmkiosk"}, time.Now, slog.New(slog.DiscardHandler))
	if err != nil || s != nil || len(s.uplinkOptions()) != 0 {
		t.Fatalf("openState without a dir = %v, %v", s, err)
	}
}
