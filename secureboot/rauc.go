package secureboot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Runner runs a command and returns its standard output. Exec runs it for
// real; tests give a fake rauc.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// maxCommandOutput bounds what is read from a command (rauc status is a few
// kilobytes).
const maxCommandOutput = 1 << 20

// Exec runs name with args; a failure carries the command's standard error.
func Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &limitedBuffer{&stdout}, &limitedBuffer{&stderr}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		return stdout.Bytes(), fmt.Errorf("secureboot: %s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

type limitedBuffer struct{ b *bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxCommandOutput - l.b.Len(); len(p) > room {
		l.b.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return l.b.Write(p)
}

// RAUC is the kiosk's Updater: it verifies the project's envelope while it
// streams the bundle to the data partition, hands the verified RAUC bundle
// inside to "rauc install", reads the slots with "rauc status
// --output-format=json" and marks the booted slot good with "rauc status
// mark-good booted" once palmd is healthy. The boot loader's trial boot and
// fallback are RAUC's (the image's custom backend drives the Raspberry Pi's
// tryboot). Anti-rollback stays here: RAUC's bundle version is a free
// string it does not compare.
type RAUC struct {
	keeper
	run     Runner
	binary  string
	dir     string
	keys    []ed25519.PublicKey
	product string
	// bootnames maps RAUC's bootname of each rootfs slot to a Slot.
	bootnames map[string]Slot

	mu sync.Mutex
}

var _ Updater = (*RAUC)(nil)

// NewRAUC returns the RAUC backend. dir is where a bundle is staged while it
// streams in (on the data partition, never the read-only root); run is Exec
// on a kiosk. The image's system.conf names the rootfs slots' bootnames "A"
// and "B".
func NewRAUC(store StateStore, dir string, keys []ed25519.PublicKey, product string, log *slog.Logger, run Runner, opts ...UpdaterOption) *RAUC {
	return &RAUC{keeper: newKeeper(store, log, opts), run: run, binary: "rauc", dir: dir, keys: keys, product: product,
		bootnames: map[string]Slot{"A": SlotA, "B": SlotB}}
}

// raucStatus is "rauc status --output-format=json".
type raucStatus struct {
	Compatible  string                `json:"compatible"`
	Booted      string                `json:"booted"`
	BootPrimary string                `json:"boot_primary"`
	Slots       []map[string]raucSlot `json:"slots"`
}

type raucSlot struct {
	Class      string `json:"class"`
	Bootname   string `json:"bootname"`
	State      string `json:"state"`
	BootStatus string `json:"boot_status"`
}

// raucView is what palmd needs from rauc status.
type raucView struct {
	booted, primary Slot
	bootedGood      bool
}

func parseRAUCStatus(b []byte, bootnames map[string]Slot) (raucView, error) {
	var st raucStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return raucView{}, fmt.Errorf("%w: rauc status: %v", ErrMalformed, err)
	}
	var v raucView
	for _, entry := range st.Slots {
		for name, s := range entry {
			slot, ok := bootnames[s.Bootname]
			if !ok {
				continue // not a rootfs slot with a boot name
			}
			if s.State == "booted" {
				if v.booted != "" {
					return raucView{}, fmt.Errorf("%w: rauc status: two booted slots", ErrMalformed)
				}
				v.booted, v.bootedGood = slot, s.BootStatus == "good"
			}
			if name == st.BootPrimary {
				v.primary = slot
			}
		}
	}
	if v.booted == "" {
		return raucView{}, fmt.Errorf("%w: rauc status: no booted slot named A or B (booted %q)", ErrMalformed, st.Booted)
	}
	return v, nil
}

func (r *RAUC) raucStatus(ctx context.Context) (raucView, error) {
	out, err := r.run(ctx, r.binary, "status", "--output-format=json")
	if err != nil {
		return raucView{}, err
	}
	v, err := parseRAUCStatus(out, r.bootnames)
	if err != nil {
		return raucView{}, err
	}
	r.booted = v.booted
	return v, nil
}

// Install streams the envelope from r into dir, verifying it as it goes;
// only a bundle that verified completely is renamed to its .raucb name and
// given to "rauc install", which writes the inactive slot and makes it the
// boot loader's primary for one trial boot.
func (r *RAUC) Install(ctx context.Context, src io.Reader) (Manifest, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	view, err := r.raucStatus(ctx)
	if err != nil {
		return Manifest{}, err
	}
	st, err := r.load()
	if err != nil {
		return Manifest{}, err
	}
	if st.Trial != "" && view.booted == st.Trial {
		return Manifest{}, ErrTrialPending
	}
	b, err := Policy{Keys: r.keys, Product: r.product, MinVersion: st.MinFirmware}.OpenBundle(src)
	if err != nil {
		return Manifest{}, err
	}
	m := b.Manifest()
	path := filepath.Join(r.dir, "update.raucb")
	if err := stage(ctx, path, b); err != nil {
		return Manifest{}, err
	}
	defer os.Remove(path)

	// Record the intent before RAUC touches the slot: a crash from here on
	// leaves a trial mark that Commit resolves against rauc status.
	target := view.booted.Other()
	st.Active, st.Trial, st.TrialBoots = view.booted, target, 0
	if st.Slots == nil {
		st.Slots = map[Slot]SlotInfo{}
	}
	st.Slots[target] = SlotInfo{Version: m.Version, Release: m.Release, SHA256: m.SHA256}
	if err := r.store.Save(st); err != nil {
		return Manifest{}, err
	}
	r.log.Info("secureboot: rauc install", "slot", target, "version", m.Version, "release", m.Release)
	if _, err := r.run(ctx, r.binary, "install", path); err != nil {
		st.Trial = ""
		delete(st.Slots, target)
		return Manifest{}, errors.Join(err, r.store.Save(st))
	}
	return m, nil
}

// stage writes the verified payload to path: it streams into path.part and
// renames it only once Bundle.Read has returned io.EOF (every check passed).
func stage(ctx context.Context, path string, b *Bundle) error {
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("secureboot: staging bundle: %w", err)
	}
	_, err = io.Copy(f, ctxReader{ctx, b})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(part, path)
	}
	if err != nil {
		os.Remove(part)
		return fmt.Errorf("secureboot: staging bundle: %w", err)
	}
	return nil
}

// Commit marks the booted slot good in RAUC (the boot loader keeps it) and,
// when it is the trial slot, commits it and raises the firmware minimum. On
// the committed slot with a trial still recorded that the boot loader no
// longer makes primary, the trial failed and is forgotten.
func (r *RAUC) Commit(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	view, err := r.raucStatus(ctx)
	if err != nil {
		return err
	}
	if !view.bootedGood {
		if _, err := r.run(ctx, r.binary, "status", "mark-good", "booted"); err != nil {
			return err
		}
	}
	st, err := r.load()
	if err != nil {
		return err
	}
	switch {
	case st.Trial != "" && view.booted == st.Trial:
		v := st.Slots[st.Trial].Version
		st.Active, st.Trial, st.TrialBoots = view.booted, "", 0
		st.MinFirmware = max(st.MinFirmware, v)
		r.log.Info("secureboot: committed", "slot", view.booted, "version", v)
	case st.Trial != "" && view.primary != st.Trial:
		info := st.Slots[st.Trial]
		info.Failed = true
		st.Slots[st.Trial] = info
		r.log.Warn("secureboot: trial boot failed", "slot", st.Trial, "version", info.Version)
		st.Trial = ""
	default:
		return nil
	}
	return r.store.Save(st)
}

// Status reports rauc's booted slot and the state.
func (r *RAUC) Status(ctx context.Context) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	view, err := r.raucStatus(ctx)
	if err != nil {
		return Status{}, err
	}
	st, err := r.load()
	if err != nil {
		return Status{}, err
	}
	return r.status(st, view.booted), nil
}

// AcceptConfig verifies a signed config; see Updater.
func (r *RAUC) AcceptConfig(src io.Reader, check func([]byte) error) (Manifest, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.acceptConfig(Policy{Keys: r.keys, Product: r.product}, src, check)
}
