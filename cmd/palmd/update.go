package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/wire"
)

// Events palmd publishes about updates and signed config (telemetry sees
// them): Reason is "<what>:<detail>", e.g. "committed:8" or
// "refused:rollback".
const (
	evUpdate = "update"
	evConfig = "config"
)

// bundleSource fetches the bundle an update command names (*uplink.Client).
type bundleSource interface {
	Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error)
}

// updateKiosk is what the update needs of the kiosk (*firmware.Kiosk).
type updateKiosk interface {
	Updating(on bool)
	Status() firmware.Status
	Healthy() bool
}

// updateHooks let tests stop an update at each of its steps, as a power cut
// would. Nil hooks change nothing.
type updateHooks struct {
	store func(secureboot.StateStore) secureboot.StateStore
	slots func(secureboot.Slots) secureboot.Slots
	// step runs before the steps "reboot" and "commit" (of a trial
	// slot); an error stops the update there.
	step func(name string) error
}

// updateDriver takes a signed update command from the bundle to the commit:
// fetch and verify while installing into the inactive slot, the kiosk in
// its updating mode (a running session finishes first), reboot into the
// trial, commit once palmd is healthy there. With update.updater "file"
// (the simulation) the slots are two files in update.dir and the reboot is
// emulated in-process: the boot loader's decision (FileUpdater.NextBoot) is
// taken again, the updater reopened on the slot it chose, and the commit
// waits for the kiosk to be healthy once more. With "rauc" palmd asks
// palmd-reboot.path for the reboot and the next palmd commits.
type updateDriver struct {
	state *deviceState
	kiosk updateKiosk
	clock clockwork.Clock
	emit  func(bus.Event)
	log   *slog.Logger
	hooks updateHooks
	// reboot asks for the reboot into the trial slot; rebootInProcess in
	// the simulation.
	reboot func(ctx context.Context) error

	mu     sync.Mutex
	u      secureboot.Updater
	booted secureboot.Slot
	busy   bool // an update is under way
}

// newUpdateDriver boots: it takes the boot loader's decision in the
// simulation, reads the booted slot from the kernel command line on a
// kiosk, and opens the updater on it.
func newUpdateDriver(s *deviceState, kiosk updateKiosk, clock clockwork.Clock, emit func(bus.Event), log *slog.Logger, hooks updateHooks) (*updateDriver, error) {
	d := &updateDriver{state: s, kiosk: kiosk, clock: clock, emit: emit, log: log, hooks: hooks}
	if s.cfg.Updater == "rauc" {
		d.reboot = askReboot
	} else {
		d.reboot = d.rebootInProcess
	}
	return d, d.boot()
}

// boot opens the updater on the slot that boots now.
func (d *updateDriver) boot() error {
	store, err := d.state.slotStore()
	if err != nil {
		return err
	}
	if d.hooks.store != nil {
		store = d.hooks.store(store)
	}
	s := d.state
	opts := []secureboot.UpdaterOption{secureboot.Floor(s.floor)}
	var booted secureboot.Slot
	var u secureboot.Updater
	var tampered bool
	if s.cfg.Updater == "rauc" {
		if cmdline, err := os.ReadFile("/proc/cmdline"); err == nil {
			if booted, err = secureboot.BootedSlot(cmdline); err != nil {
				d.log.Warn("booted slot unknown", "err", err)
			}
		}
		if booted != "" {
			opts = append(opts, secureboot.Booted(booted))
		}
		u = secureboot.NewRAUC(store, filepath.Join(s.cfg.Dir, stagingDir), s.keys, s.cfg.Product, d.log, secureboot.Exec, opts...)
	} else {
		slots, err := fileSlots(s.cfg.Dir)
		if err != nil {
			return err
		}
		var sl secureboot.Slots = slots
		if d.hooks.slots != nil {
			sl = d.hooks.slots(sl)
		}
		// The boot loader's turn: a pending trial is booted once, a failed
		// one falls back. It is the first to read the state, so the first
		// to find it tampered with.
		loader := secureboot.NewFileUpdater(store, sl, s.keys, s.cfg.Product, d.log, opts...)
		if booted, err = loader.NextBoot(); err != nil {
			return fmt.Errorf("boot: %w", err)
		}
		tampered = loader.Tampered() != nil
		u = secureboot.NewFileUpdater(store, sl, s.keys, s.cfg.Product, d.log, append(opts, secureboot.Booted(booted))...)
	}
	st, err := u.Status(context.Background())
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	d.log.Info("booted", "slot", booted, "version", st.Version, "trial", st.Trial, "min_firmware", st.MinFirmware)
	if tampered || st.Tampered {
		d.emit(bus.Event{Event: evUpdate, Reason: "tampered:state"})
	}
	d.mu.Lock()
	d.u, d.booted = u, booted
	d.mu.Unlock()
	return nil
}

// fileSlots are the simulation's two slot files in dir, made if missing.
func fileSlots(dir string) (secureboot.FileSlots, error) {
	slots := secureboot.FileSlots{secureboot.SlotA: filepath.Join(dir, "slot-a"), secureboot.SlotB: filepath.Join(dir, "slot-b")}
	for _, p := range slots {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("update.dir: %w", err)
		}
		f.Close()
	}
	return slots, nil
}

func (d *updateDriver) updater() secureboot.Updater {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.u
}

// status is the updater's view.
func (d *updateDriver) status(ctx context.Context) (secureboot.Status, error) {
	return d.updater().Status(ctx)
}

// commitWhenHealthy waits until the kiosk has sent READY (ready closed) and
// is healthy, then commits the booted slot: a trial slot becomes the
// committed one. A palmd that never gets there never commits, and the next
// boot falls back.
func (d *updateDriver) commitWhenHealthy(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	for !d.kiosk.Healthy() {
		select {
		case <-d.clock.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil
		}
	}
	u := d.updater()
	st, err := u.Status(ctx)
	if err != nil {
		return err
	}
	trial := st.Trial != "" && st.Trial == st.Booted
	if trial && d.hooks.step != nil {
		if err := d.hooks.step("commit"); err != nil {
			return err
		}
	}
	if err := u.Commit(ctx); err != nil {
		d.emit(bus.Event{Event: evUpdate, Reason: "failed:commit"})
		return fmt.Errorf("update: commit: %w", err)
	}
	if trial {
		d.log.Info("update committed", "slot", st.Booted, "version", st.Version)
		d.emit(bus.Event{Event: evUpdate, Reason: fmt.Sprintf("committed:%d", st.Version)})
	}
	return nil
}

// start runs an update command in the background, one at a time: the
// command handler returns at once (and the command is acknowledged) while
// the bundle streams.
func (d *updateDriver) start(ctx context.Context, w wire.Update, src bundleSource, wg *sync.WaitGroup) {
	d.mu.Lock()
	if d.busy {
		d.mu.Unlock()
		d.log.Warn("update refused: another is under way", "version", w.Version)
		d.emit(bus.Event{Event: evUpdate, Reason: "refused:busy"})
		return
	}
	d.busy = true
	d.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := d.update(ctx, w, src)
		d.mu.Lock()
		d.busy = false
		d.mu.Unlock()
		if err != nil {
			d.log.Error("update failed", "version", w.Version, "err", err)
		}
	}()
}

// update fetches, verifies and installs the bundle w names, then reboots
// into it.
func (d *updateDriver) update(ctx context.Context, w wire.Update, src bundleSource) error {
	u := d.updater()
	st, err := u.Status(ctx)
	if err != nil {
		return err
	}
	refuse := func(why string, err error) error {
		d.emit(bus.Event{Event: evUpdate, Reason: why})
		return err
	}
	switch {
	case len(d.state.keys) == 0:
		return refuse("refused:no_keys", errors.New("update: no trusted release keys (update.keys)"))
	case w.Version < st.MinFirmware:
		return refuse("refused:rollback", fmt.Errorf("update: version %d is older than the minimum %d: %w", w.Version, st.MinFirmware, secureboot.ErrRollback))
	case w.Version == st.Version && st.Version != 0:
		return refuse("refused:running", fmt.Errorf("update: version %d is running already", w.Version))
	}
	d.log.Info("update", "version", w.Version, "release", w.Release, "size", w.Size)
	rc, err := src.Bundle(ctx, w)
	if err != nil {
		return refuse("failed:fetch", err)
	}
	d.kiosk.Updating(true)
	m, err := u.Install(ctx, rc)
	rc.Close()
	if err != nil {
		d.kiosk.Updating(false)
		why := "refused:" + installReason(err)
		if errors.Is(err, uplink.ErrBundleFetch) && ctx.Err() == nil {
			why = "failed:fetch" // the download broke off: nothing was refused
		}
		return refuse(why, fmt.Errorf("update: install: %w", err))
	}
	d.log.Info("update installed; waiting for the session to finish", "version", m.Version)
	d.emit(bus.Event{Event: evUpdate, Reason: fmt.Sprintf("installed:%d", m.Version)})
	if err := d.waitIdle(ctx); err != nil {
		return err
	}
	if d.hooks.step != nil {
		if err := d.hooks.step("reboot"); err != nil {
			return err
		}
	}
	if err := d.reboot(ctx); err != nil {
		d.kiosk.Updating(false)
		return refuse("failed:reboot", err)
	}
	if d.state.cfg.Updater == "rauc" {
		return nil // systemd stops palmd for the reboot; the next one commits
	}
	ready := make(chan struct{})
	close(ready) // this palmd has sent READY already
	return d.commitWhenHealthy(ctx, ready)
}

// waitIdle waits until the kiosk is in its updating mode with no session.
func (d *updateDriver) waitIdle(ctx context.Context) error {
	for {
		if st := d.kiosk.Status(); st.Mode == firmware.ModeUpdating && st.Session == "" {
			return nil
		}
		select {
		case <-d.clock.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// rebootInProcess is the simulation's reboot: the boot loader's decision
// is taken again and the updater reopened on the slot it chose; the kiosk
// leaves its updating mode, and the commit waits for it to be healthy.
func (d *updateDriver) rebootInProcess(context.Context) error {
	d.log.Info("rebooting into the trial slot (simulated in-process)")
	if err := d.boot(); err != nil {
		return err
	}
	d.kiosk.Updating(false)
	return nil
}

// rebootRequest is where palmd asks for a reboot on the kiosk: the image's
// palmd-reboot.path watches it (palmd itself may not reboot).
const rebootRequest = "/run/palmd/reboot"

// askReboot asks for the reboot into the trial slot; palmd keeps running,
// in its updating mode, until systemd stops it.
func askReboot(context.Context) error {
	if err := os.WriteFile(rebootRequest, nil, 0o600); err != nil {
		return fmt.Errorf("update: asking for a reboot: %w", err)
	}
	return nil
}

// installReason names why Install refused a bundle, for telemetry.
func installReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{secureboot.ErrBadSignature, "bad_signature"},
		{secureboot.ErrRollback, "rollback"},
		{secureboot.ErrWrongProduct, "wrong_product"},
		{secureboot.ErrWrongKind, "wrong_kind"},
		{secureboot.ErrDigestMismatch, "digest"},
		{secureboot.ErrTruncated, "truncated"},
		{uplink.ErrBundleMismatch, "bundle_mismatch"},
		{secureboot.ErrTrialPending, "trial_pending"},
		{secureboot.ErrTampered, "tampered"},
		{secureboot.ErrMalformed, "malformed"},
		{context.Canceled, "cancelled"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "error"
}
