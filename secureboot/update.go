package secureboot

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// ErrTrialPending is returned by Install while a trial boot is under way:
// the inactive slot is then the one running, and only Commit or the
// fallback at the next boot ends the trial.
var ErrTrialPending = errors.New("secureboot: trial boot pending")

// SlotWriter is an open root slot: a block device on the kiosk, a file in
// tests. *os.File implements it.
type SlotWriter interface {
	io.WriterAt
	Sync() error
	Close() error
}

// Slots opens a root slot for writing.
type Slots interface {
	OpenSlot(Slot) (SlotWriter, error)
}

// FileSlots maps each slot to a file or block device path, e.g.
// /dev/disk/by-partlabel/rootfs-a. The path must exist.
type FileSlots map[Slot]string

var _ Slots = FileSlots{}

// OpenSlot opens the slot's path for writing, without creating or
// truncating it.
func (f FileSlots) OpenSlot(s Slot) (SlotWriter, error) {
	p, ok := f[s]
	if !ok {
		return nil, fmt.Errorf("secureboot: no path for slot %q", s)
	}
	w, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("secureboot: slot %s: %w", s, err)
	}
	return w, nil
}

// Updater is what palmd drives to update itself; RAUC is the kiosk's
// backend, FileUpdater the simulation's.
type Updater interface {
	// Install verifies the bundle read from r while it streams it into the
	// inactive slot, and marks that slot for a one-time trial boot. Nothing
	// is marked unless the whole bundle verified.
	Install(ctx context.Context, r io.Reader) (Manifest, error)
	// Commit is called once palmd is healthy on the slot it booted: a
	// trial slot becomes the committed one and the firmware minimum rises
	// to its version. On the committed slot it changes nothing.
	Commit(ctx context.Context) error
	// Status reports the slots and the minimums.
	Status(ctx context.Context) (Status, error)
	// AcceptConfig verifies a signed config document against the config
	// minimum, runs check on its payload (palmd's config.Parse), and only
	// then raises the minimum to its version.
	AcceptConfig(r io.Reader, check func([]byte) error) (Manifest, []byte, error)
}

// Status is an Updater's view of the device.
type Status struct {
	Booted Slot `json:"booted"`
	Active Slot `json:"active"`
	Trial  Slot `json:"trial,omitempty"`
	// Version is the anti-rollback version installed in the booted slot
	// (0 if it was not installed by this updater: the factory image).
	Version     uint64 `json:"version"`
	MinFirmware uint64 `json:"min_firmware"`
	MinConfig   uint64 `json:"min_config"`
	// Tampered is set once the state was found deleted, rewritten or
	// replaced by an older copy (and rebuilt); palmd reports it.
	Tampered bool `json:"tampered,omitempty"`
}

// keeper loads and saves the State with the floor applied and tampering
// repaired; both backends keep their state through it.
type keeper struct {
	store  StateStore
	log    *slog.Logger
	floor  uint64 // the running release's version
	booted Slot   // the slot running now, if known

	tampered error // the last ErrTampered the store returned
}

// FileUpdater installs bundles into the inactive slot, runs the trial boot
// and accepts signed config, keeping State in a StateStore; NextBoot plays
// the boot loader. Its methods are safe for concurrent use.
type FileUpdater struct {
	keeper
	slots   Slots
	keys    []ed25519.PublicKey
	product string

	mu sync.Mutex // serialises load-modify-save of the state
}

var _ Updater = (*FileUpdater)(nil)

// UpdaterOption configures an updater.
type UpdaterOption func(*keeper)

// Floor sets the lowest firmware version the device accepts, whatever its
// state says: the version of the running release (Policy.VerifyRelease).
// A deleted or rewritten state file cannot lower it.
func Floor(version uint64) UpdaterOption { return func(k *keeper) { k.floor = version } }

// Booted names the slot running now (BootedSlot), so that a state found
// tampered with is rebuilt around it.
func Booted(s Slot) UpdaterOption { return func(k *keeper) { k.booted = s } }

// NewFileUpdater returns a FileUpdater that trusts keys for product. A nil
// log discards.
func NewFileUpdater(store StateStore, slots Slots, keys []ed25519.PublicKey, product string, log *slog.Logger, opts ...UpdaterOption) *FileUpdater {
	return &FileUpdater{keeper: newKeeper(store, log, opts), slots: slots, keys: keys, product: product}
}

func newKeeper(store StateStore, log *slog.Logger, opts []UpdaterOption) keeper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := keeper{store: store, log: log}
	for _, o := range opts {
		o(&k)
	}
	return k
}

// State returns the stored state, with the floor applied.
func (u *FileUpdater) State() (State, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.load()
}

// Tampered returns the last ErrTampered the state store reported (nil if
// none): palmd reports it in telemetry.
func (u *FileUpdater) Tampered() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tampered
}

// Status reports the state as the booted slot sees it.
func (u *FileUpdater) Status(context.Context) (Status, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st, err := u.load()
	if err != nil {
		return Status{}, err
	}
	return u.status(st, u.booted), nil
}

func (u *keeper) status(st State, booted Slot) Status {
	return Status{Booted: booted, Active: st.Active, Trial: st.Trial, Version: st.Slots[booted].Version,
		MinFirmware: st.MinFirmware, MinConfig: st.MinConfig, Tampered: u.tampered != nil}
}

// load reads the state and raises the firmware minimum to the floor. A
// state that was deleted, rewritten or replaced by an older copy is rebuilt
// from what the device can trust, the booted slot and the floor, and sealed
// again: no trial, the booted slot active.
func (u *keeper) load() (State, error) {
	st, err := u.store.Load()
	if errors.Is(err, ErrTampered) {
		u.tampered = err
		active := u.booted
		if !active.valid() {
			active = SlotA
		}
		u.log.Error("secureboot: slot state tampered with; rebuilt from the booted slot and the release floor",
			"err", err, "active", active, "min_firmware", u.floor)
		st = State{Active: active, MinFirmware: u.floor}
		if err := u.store.Save(st); err != nil {
			return State{}, err
		}
		return st, nil
	}
	if err != nil {
		return State{}, err
	}
	if u.booted.valid() && st.Trial == "" && len(st.Slots) == 0 && st.MinFirmware == 0 {
		// Nothing was ever installed or committed (a factory-fresh kiosk, or
		// the simulation's counter deleted with the state): the slot running
		// is the active one.
		st.Active = u.booted
	}
	st.MinFirmware = max(st.MinFirmware, u.floor)
	return st, nil
}

// Install verifies the bundle read from r while writing its image into the
// inactive slot, then marks that slot for a one-time trial boot. A bundle
// refused at its header (signature, product, version) changes nothing; a
// failure after that leaves the inactive slot without a trial mark. The
// active slot is never touched. Install refuses to run during a trial boot
// (ErrTrialPending): the inactive slot is then the one running.
func (u *FileUpdater) Install(ctx context.Context, r io.Reader) (Manifest, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st, err := u.load()
	if err != nil {
		return Manifest{}, err
	}
	if st.TrialBoots > 0 {
		return Manifest{}, ErrTrialPending
	}
	b, err := Policy{Keys: u.keys, Product: u.product, MinVersion: st.MinFirmware}.OpenBundle(r)
	if err != nil {
		return Manifest{}, err
	}
	target := st.Active.Other()
	// Forget the old contents first, so a crash while writing leaves no trial
	// mark (and no description) on a half-written slot.
	if st.Trial != "" || st.Slots[target] != (SlotInfo{}) {
		st.Trial, st.TrialBoots = "", 0
		delete(st.Slots, target)
		if err := u.store.Save(st); err != nil {
			return Manifest{}, err
		}
	}
	m := b.Manifest()
	u.log.Info("secureboot: installing", "slot", target, "version", m.Version, "release", m.Release, "size", m.Size)
	if err := writeSlot(ctx, u.slots, target, b); err != nil {
		return Manifest{}, err
	}
	if st.Slots == nil {
		st.Slots = make(map[Slot]SlotInfo)
	}
	st.Slots[target] = SlotInfo{Version: m.Version, Release: m.Release, SHA256: m.SHA256}
	st.Trial = target
	if err := u.store.Save(st); err != nil {
		return Manifest{}, err
	}
	u.log.Info("secureboot: installed; trial boot pending", "slot", target, "version", m.Version)
	return m, nil
}

func writeSlot(ctx context.Context, slots Slots, s Slot, b *Bundle) error {
	w, err := slots.OpenSlot(s)
	if err != nil {
		return err
	}
	_, err = io.Copy(slotWriter{io.NewOffsetWriter(w, 0), s}, ctxReader{ctx, b})
	if err == nil {
		if err = w.Sync(); err != nil {
			err = fmt.Errorf("secureboot: slot %s: %w", s, err)
		}
	}
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("secureboot: slot %s: %w", s, cerr)
	}
	return err
}

// slotWriter names the slot in write errors.
type slotWriter struct {
	w    io.Writer
	slot Slot
}

func (s slotWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		err = fmt.Errorf("secureboot: writing slot %s: %w", s.slot, err)
	}
	return n, err
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("secureboot: install: %w", err)
	}
	return c.r.Read(p)
}

// NextBoot is the boot-time decision: it returns the slot to boot and
// records the attempt. A pending trial slot is booted MaxTrialBoots times;
// if it is still uncommitted after that, the trial has failed: the slot is
// marked Failed and the active slot is booted again.
func (u *FileUpdater) NextBoot() (Slot, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st, err := u.load()
	if err != nil {
		return "", err
	}
	if st.Trial == "" {
		return st.Active, nil
	}
	if v := st.Slots[st.Trial].Version; v < st.MinFirmware {
		u.log.Warn("secureboot: trial slot is below the firmware minimum; not booted", "slot", st.Trial, "version", v, "min_firmware", st.MinFirmware)
		st.Trial, st.TrialBoots = "", 0
		if err := u.store.Save(st); err != nil {
			return "", err
		}
		return st.Active, nil
	}
	if st.TrialBoots < MaxTrialBoots {
		st.TrialBoots++
		if err := u.store.Save(st); err != nil {
			return "", err
		}
		u.log.Info("secureboot: trial boot", "slot", st.Trial, "version", st.Slots[st.Trial].Version)
		return st.Trial, nil
	}
	failed := st.Trial
	info := st.Slots[failed]
	info.Failed = true
	st.Slots[failed] = info
	st.Trial, st.TrialBoots = "", 0
	if err := u.store.Save(st); err != nil {
		return "", err
	}
	u.log.Warn("secureboot: trial boot failed; falling back", "failed", failed, "version", info.Version, "slot", st.Active)
	return st.Active, nil
}

// Commit commits the slot named by the Booted option; see CommitSlot.
func (u *FileUpdater) Commit(context.Context) error {
	if !u.booted.valid() {
		return errors.New("secureboot: commit: the booted slot is not known (Booted option)")
	}
	return u.CommitSlot(u.booted)
}

// CommitSlot is called by palmd once it is healthy on the slot it booted from.
// Committing the trial slot makes it active and raises the firmware minimum
// to its version; committing the active slot is a no-op (a trial installed
// but not yet booted stays pending). Any other slot is an error: the system
// is not running what the state says it should.
func (u *FileUpdater) CommitSlot(booted Slot) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	st, err := u.load()
	if err != nil {
		return err
	}
	switch {
	case booted == st.Active:
		return nil
	case booted != st.Trial || st.TrialBoots == 0:
		return fmt.Errorf("secureboot: commit of slot %q, but active is %q and trial %q (%d boots)", booted, st.Active, st.Trial, st.TrialBoots)
	}
	v := st.Slots[booted].Version
	st.Active, st.Trial, st.TrialBoots = booted, "", 0
	st.MinFirmware = max(st.MinFirmware, v)
	if err := u.store.Save(st); err != nil {
		return err
	}
	u.log.Info("secureboot: committed", "slot", booted, "version", v)
	return nil
}

// AcceptConfig verifies a signed config read from r against the config
// minimum, runs check on the payload (palmd parses and validates it there),
// and only then raises the config minimum to its version. It returns the
// manifest and the config JSON.
func (u *FileUpdater) AcceptConfig(r io.Reader, check func([]byte) error) (Manifest, []byte, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.acceptConfig(Policy{Keys: u.keys, Product: u.product}, r, check)
}

// acceptConfig is AcceptConfig for both backends; the caller holds its lock.
func (u *keeper) acceptConfig(p Policy, r io.Reader, check func([]byte) error) (Manifest, []byte, error) {
	st, err := u.load()
	if err != nil {
		return Manifest{}, nil, err
	}
	p.MinVersion = st.MinConfig
	m, payload, err := p.VerifyConfig(r)
	if err != nil {
		return Manifest{}, nil, err
	}
	if err := check(payload); err != nil {
		return Manifest{}, nil, err
	}
	if m.Version > st.MinConfig {
		st.MinConfig = m.Version
		if err := u.store.Save(st); err != nil {
			return Manifest{}, nil, err
		}
	}
	u.log.Info("secureboot: config accepted", "version", m.Version, "release", m.Release)
	return m, payload, nil
}
