package secureboot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var errKilled = errors.New("killed")

// faults kills the update at its failAt-th fallible operation: a read of the
// bundle, a write to the slot, a state save, a counter increment, or the
// boot and start of palmd themselves. hit names the step that was killed.
type faults struct {
	failAt int
	n      int
	phase  string // "install", "reboot" or "commit"
	hit    string
}

func (f *faults) op(step string) error {
	f.n++
	if f.n == f.failAt {
		f.hit = step
		return errKilled
	}
	return nil
}

// stateStep names a state save or counter increment by the phase it is in.
func (f *faults) stateStep() string {
	return map[string]string{"install": "mark", "reboot": "reboot", "commit": "commit"}[f.phase]
}

// faultReader is the download: it hands out the bundle in chunks; a read
// once every byte has been delivered is the verifier's check for the end.
type faultReader struct {
	f   *faults
	b   []byte
	off int
}

func (r *faultReader) Read(p []byte) (int, error) {
	step := "download"
	if r.off >= len(r.b) {
		step = "verify"
	}
	if err := r.f.op(step); err != nil {
		return 0, err
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1500)], r.b[r.off:])
	r.off += n
	return n, nil
}

type faultSlots struct {
	f     *faults
	slots FileSlots
}

func (s faultSlots) OpenSlot(slot Slot) (SlotWriter, error) {
	if err := s.f.op("write"); err != nil {
		return nil, err
	}
	w, err := s.slots.OpenSlot(slot)
	if err != nil {
		return nil, err
	}
	return faultWriter{s.f, w}, nil
}

type faultWriter struct {
	f *faults
	w SlotWriter
}

func (w faultWriter) WriteAt(p []byte, off int64) (int, error) {
	if err := w.f.op("write"); err != nil {
		return 0, err
	}
	return w.w.WriteAt(p, off)
}

func (w faultWriter) Sync() error {
	if err := w.f.op("write"); err != nil {
		return err
	}
	return w.w.Sync()
}

func (w faultWriter) Close() error { return w.w.Close() }

type faultStore struct {
	f *faults
	s StateStore
}

func (s faultStore) Load() (State, error) { return s.s.Load() }

func (s faultStore) Save(st State) error {
	if err := s.f.op(s.f.stateStep()); err != nil {
		return err
	}
	return s.s.Save(st)
}

type faultCounter struct {
	f *faults
	c Counter
}

func (c faultCounter) Read() (uint64, error) { return c.c.Read() }

func (c faultCounter) Increment() (uint64, error) {
	if err := c.f.op(c.f.stateStep()); err != nil {
		return 0, err
	}
	return c.c.Increment()
}

// kiosk is a simulated kiosk: two slot files and its sealed state, with the
// factory release (version 1) in slot A.
type kiosk struct {
	t       *testing.T
	dir     string
	slots   FileSlots
	f       *faults
	factory []byte
}

func newKiosk(t *testing.T, f *faults) *kiosk {
	k := &kiosk{t: t, dir: t.TempDir(), f: f, factory: testImage(3000)}
	k.slots = FileSlots{SlotA: filepath.Join(k.dir, "rootfs-a"), SlotB: filepath.Join(k.dir, "rootfs-b")}
	write(t, k.slots[SlotA], k.factory)
	write(t, k.slots[SlotB], nil)
	sum := sha256.Sum256(k.factory)
	factory := State{Active: SlotA, MinFirmware: 1, Slots: map[Slot]SlotInfo{SlotA: {Version: 1, SHA256: hex.EncodeToString(sum[:])}}}
	if err := k.store(false).Save(factory); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *kiosk) store(faulty bool) StateStore {
	var c Counter = &FileCounter{Path: filepath.Join(k.dir, "slots.counter")}
	if faulty {
		c = faultCounter{k.f, c}
	}
	sf, err := NewSealedFile(filepath.Join(k.dir, "slots"), "slots", testDeviceKey(1), c)
	if err != nil {
		k.t.Fatal(err)
	}
	var s StateStore = SealedStore{File: sf}
	if faulty {
		s = faultStore{k.f, s}
	}
	return s
}

// palmd is the updater of a palmd started on booted: its floor is the
// version of the release in that slot.
func (k *kiosk) palmd(booted Slot) *FileUpdater {
	version := uint64(1)
	if b, _ := os.ReadFile(k.slots[booted]); !bytes.Equal(b, k.factory) {
		version = 2
	}
	return NewFileUpdater(k.store(true), faultSlots{k.f, k.slots}, testPolicy(0).Keys, testProduct, nil,
		Floor(version), Booted(booted))
}

// boot is the boot loader choosing a slot; it checks that the slot holds
// exactly the image the state says was verified into it.
func (k *kiosk) boot(last Slot) (Slot, error) {
	k.f.phase = "reboot"
	if err := k.f.op("reboot"); err != nil {
		return "", err
	}
	slot, err := k.palmd(last).NextBoot()
	if err != nil {
		return "", err
	}
	st, err := k.store(false).Load()
	if err != nil {
		k.t.Fatal(err)
	}
	b, err := os.ReadFile(k.slots[slot])
	if err != nil {
		k.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if info, ok := st.Slots[slot]; !ok || info.SHA256 != hex.EncodeToString(sum[:]) {
		k.t.Fatalf("killed at %q: booted slot %s, which does not hold a verified image (state %+v)", k.f.hit, slot, st)
	}
	return slot, nil
}

// update runs one update of the kiosk from a palmd on booted: install,
// reboot, commit once healthy. It returns the slot running at the end and
// the first error (a kill).
func (k *kiosk) update(booted Slot, bundle []byte) (Slot, error) {
	ctx := context.Background()
	k.f.phase = "install"
	if _, err := k.palmd(booted).Install(ctx, &faultReader{f: k.f, b: bundle}); err != nil {
		return booted, err
	}
	slot, err := k.boot(booted)
	if err != nil {
		return booted, err
	}
	k.f.phase = "commit"
	if err := k.f.op("commit"); err != nil { // palmd dies before it is healthy
		return slot, err
	}
	return slot, k.palmd(slot).Commit(ctx)
}

// TestUpdateKilledAtEveryStep kills the update at every fallible operation
// in turn (each read of the download, the verifier's end check, each slot
// write, each state save and counter increment while marking the trial,
// booting and committing). After each kill the kiosk boots a slot holding a
// verified image, palmd commits what it runs, the cloud retries, and the
// kiosk ends on the new version, committed.
func TestUpdateKilledAtEveryStep(t *testing.T) {
	bundle := signBundle(t, testKey(1), 2, testImage(6000))
	var steps []string
	for k := 1; ; k++ {
		f := &faults{failAt: k}
		ks := newKiosk(t, f)
		running, err := ks.update(SlotA, bundle)
		if f.hit == "" {
			if err != nil {
				t.Fatalf("update without a kill: %v", err)
			}
			if k < 10 {
				t.Fatalf("only %d operations could be killed", k-1)
			}
			break
		}
		if !errors.Is(err, errKilled) {
			t.Fatalf("kill %d at %s: error %v", k, f.hit, err)
		}
		steps = append(steps, f.hit)
		hit := f.hit

		// Power comes back: boot, palmd commits what it runs when healthy.
		f.failAt = 0
		f.hit = hit // for messages
		running, err = ks.boot(running)
		if err != nil {
			t.Fatal(err)
		}
		if err := ks.palmd(running).Commit(context.Background()); err != nil {
			t.Fatalf("kill %d at %s: commit after reboot: %v", k, hit, err)
		}
		st, err := ks.palmd(running).Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Active != running {
			t.Fatalf("kill %d at %s: running %s but %s is committed", k, hit, running, st.Active)
		}
		if st.Version != 2 { // the cloud sends the update again
			if running, err = ks.update(running, bundle); err != nil {
				t.Fatalf("kill %d at %s: retry: %v", k, hit, err)
			}
		}
		st, err = ks.palmd(running).Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		saved, err := ks.store(false).Load()
		if err != nil {
			t.Fatal(err)
		}
		if st.Booted != st.Active || st.Version != 2 || st.Trial != "" || saved.MinFirmware != 2 {
			t.Fatalf("kill %d at %s: ends on %+v (saved %+v)", k, hit, st, saved)
		}
	}
	for _, want := range []string{"download", "verify", "write", "mark", "reboot", "commit"} {
		if !slices.Contains(steps, want) {
			t.Errorf("no kill at %s (killed at %v)", want, steps)
		}
	}
	t.Logf("killed at %d operations: %v", len(steps), steps)
}
