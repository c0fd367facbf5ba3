package secureboot

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func testDeviceKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, DeviceKeySize) }

// flakyCounter fails Increment once when failNext is set: a power cut
// between writing a sealed file and incrementing the counter.
type flakyCounter struct {
	Counter
	failNext bool
}

var errPowerCut = errors.New("power cut")

func (f *flakyCounter) Increment() (uint64, error) {
	if f.failNext {
		f.failNext = false
		return 0, errPowerCut
	}
	return f.Counter.Increment()
}

func newSealed(t *testing.T, dir, name string, key []byte) *SealedFile {
	t.Helper()
	f, err := NewSealedFile(filepath.Join(dir, name), name, key, &FileCounter{Path: filepath.Join(dir, name+".counter")})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSealedFile(t *testing.T) {
	dir := t.TempDir()
	f := newSealed(t, dir, "state", testDeviceKey(1))
	if doc, err := f.Load(); err != nil || doc != nil {
		t.Fatalf("fresh: Load = %q, %v; want nothing", doc, err)
	}
	for _, doc := range []string{`{"v":1}`, `{"v":2}`} {
		if err := f.Save([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		if got, err := f.Load(); err != nil || string(got) != doc {
			t.Fatalf("Load = %q, %v; want %s", got, err, doc)
		}
	}
	good, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		tamper func(t *testing.T) *SealedFile
	}{
		{"rewritten document", func(t *testing.T) *SealedFile {
			write(t, f.Path, bytes.Replace(good, []byte(`"v":2`), []byte(`"v":9`), 1))
			return f
		}},
		{"hand-written file", func(t *testing.T) *SealedFile {
			write(t, f.Path, []byte(`{"active":"a","min_firmware":0}`))
			return f
		}},
		{"deleted", func(t *testing.T) *SealedFile {
			if err := os.Remove(f.Path); err != nil {
				t.Fatal(err)
			}
			return f
		}},
		{"another device's key", func(t *testing.T) *SealedFile {
			write(t, f.Path, good)
			g, err := NewSealedFile(f.Path, f.Name, testDeviceKey(2), f.Counter)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}},
		{"another file's name", func(t *testing.T) *SealedFile {
			write(t, f.Path, good)
			g, err := NewSealedFile(f.Path, "sequence", f.Key, f.Counter)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.tamper(t).Load(); !errors.Is(err, ErrTampered) {
				t.Fatalf("Load = %v, want ErrTampered", err)
			}
		})
	}

	t.Run("older copy", func(t *testing.T) {
		write(t, f.Path, good)
		if err := f.Save([]byte(`{"v":3}`)); err != nil {
			t.Fatal(err)
		}
		write(t, f.Path, good) // correctly sealed, one save behind
		if _, err := f.Load(); !errors.Is(err, ErrTampered) {
			t.Fatalf("Load = %v, want ErrTampered", err)
		}
	})
}

func TestSealedFileSurvivesAPowerCutBetweenWriteAndIncrement(t *testing.T) {
	dir := t.TempDir()
	c := &flakyCounter{Counter: &FileCounter{Path: filepath.Join(dir, "counter")}}
	f, err := NewSealedFile(filepath.Join(dir, "state"), "state", testDeviceKey(1), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save([]byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	c.failNext = true
	if err := f.Save([]byte(`{"v":2}`)); !errors.Is(err, errPowerCut) {
		t.Fatalf("Save = %v, want the power cut", err)
	}
	if n, _ := c.Read(); n != 2 {
		t.Fatalf("counter = %d after the cut, want 2 (moved off 0, then one save)", n)
	}
	if got, err := f.Load(); err != nil || string(got) != `{"v":2}` {
		t.Fatalf("after restart: Load = %q, %v; want the new document", got, err)
	}
	if n, _ := c.Read(); n != 3 {
		t.Errorf("Load did not complete the increment: counter = %d", n)
	}
}

func TestNewSealedFileChecksItsKey(t *testing.T) {
	if _, err := NewSealedFile("x", "state", make([]byte, 16), &FileCounter{Path: "c"}); err == nil {
		t.Error("a 16-byte device key was accepted")
	}
	if _, err := NewSealedFile("x", "state", testDeviceKey(1), nil); err == nil {
		t.Error("no counter was accepted")
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReplayAfterRestartIsRefused(t *testing.T) {
	dir := t.TempDir()
	seq := NewFileSequence(newSealed(t, dir, "sequence", testDeviceKey(1)))
	for _, n := range []uint64{1, 2, 5} {
		if err := seq.Accept(n); err != nil {
			t.Fatalf("Accept(%d): %v", n, err)
		}
	}
	if err := seq.Accept(5); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay before restart: %v", err)
	}
	saved, err := os.ReadFile(filepath.Join(dir, "sequence"))
	if err != nil {
		t.Fatal(err)
	}

	// palmd restarts: a new store over the same files.
	seq = NewFileSequence(newSealed(t, dir, "sequence", testDeviceKey(1)))
	for _, n := range []uint64{5, 4, 1} {
		if err := seq.Accept(n); !errors.Is(err, ErrReplay) {
			t.Errorf("after restart, Accept(%d) = %v, want ErrReplay", n, err)
		}
	}
	if err := seq.Accept(6); err != nil {
		t.Fatalf("Accept(6): %v", err)
	}
	if last, err := seq.Last(); err != nil || last != 6 {
		t.Errorf("Last = %d, %v", last, err)
	}

	// Putting the older file back, or deleting it, does not reset the sequence.
	write(t, filepath.Join(dir, "sequence"), saved)
	if err := seq.Accept(6); !errors.Is(err, ErrTampered) {
		t.Errorf("older sequence file: Accept = %v, want ErrTampered", err)
	}
	if err := os.Remove(filepath.Join(dir, "sequence")); err != nil {
		t.Fatal(err)
	}
	if err := seq.Accept(1); !errors.Is(err, ErrTampered) {
		t.Errorf("deleted sequence file: Accept = %v, want ErrTampered", err)
	}

	// Reset is the way out: a new floor, sealed again.
	if err := seq.Reset(100); err != nil {
		t.Fatal(err)
	}
	if err := seq.Accept(100); !errors.Is(err, ErrReplay) {
		t.Errorf("after Reset(100), Accept(100) = %v, want ErrReplay", err)
	}
	if err := seq.Accept(101); err != nil {
		t.Errorf("after Reset(100), Accept(101) = %v", err)
	}
}

// sealedRig is an Updater over a sealed state, as on a kiosk, running the
// release of version floor from slot booted.
type sealedRig struct {
	dir   string
	slots FileSlots
	store SealedStore
}

func newSealedRig(t *testing.T) sealedRig {
	t.Helper()
	dir := t.TempDir()
	slots := FileSlots{SlotA: filepath.Join(dir, "rootfs-a"), SlotB: filepath.Join(dir, "rootfs-b")}
	for _, p := range slots {
		write(t, p, nil)
	}
	return sealedRig{dir: dir, slots: slots, store: SealedStore{File: newSealed(t, dir, "slots", testDeviceKey(1))}}
}

func (r sealedRig) updater(floor uint64, booted Slot) *FileUpdater {
	return NewFileUpdater(r.store, r.slots, testPolicy(0).Keys, testProduct, nil, Floor(floor), Booted(booted))
}

func TestUpdaterRefuses(t *testing.T) {
	img := testImage(3000)
	good := signBundle(t, testKey(1), 5, img)
	tamperedPayload := bytes.Clone(good)
	tamperedPayload[len(tamperedPayload)-10] ^= 1
	tamperedManifest := bytes.Replace(bytes.Clone(good), []byte(`"version":5`), []byte(`"version":6`), 1)
	tests := []struct {
		name   string
		bundle []byte
		floor  uint64
		want   error
	}{
		{"tampered payload", tamperedPayload, 1, ErrDigestMismatch},
		{"tampered manifest", tamperedManifest, 1, ErrBadSignature},
		{"unknown key", signBundle(t, testKey(9), 5, img), 1, ErrBadSignature},
		{"older than the running release, on a factory-fresh kiosk", signBundle(t, testKey(1), 3, img), 4, ErrRollback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSealedRig(t)
			u := r.updater(tt.floor, SlotA)
			if _, err := u.Install(context.Background(), bytes.NewReader(tt.bundle)); !errors.Is(err, tt.want) {
				t.Fatalf("Install = %v, want %v", err, tt.want)
			}
			st, err := u.State()
			if err != nil {
				t.Fatal(err)
			}
			if st.Trial != "" || st.Active != SlotA {
				t.Errorf("a refused bundle left state %+v", st)
			}
			if slot, err := u.NextBoot(); err != nil || slot != SlotA {
				t.Errorf("NextBoot = %s, %v; want a", slot, err)
			}
		})
	}
}

// commitV7 installs v7 into slot B on a kiosk running v5 from A, boots it
// and commits it; it returns the sealed state file as it was before the
// install (a correctly sealed file an attacker might have kept).
func commitV7(t *testing.T, r sealedRig) []byte {
	t.Helper()
	u := r.updater(5, SlotA)
	if _, err := u.State(); err != nil { // seals the fresh state
		t.Fatal(err)
	}
	if err := u.store.Save(State{Active: SlotA, MinFirmware: 5}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(r.store.File.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Install(context.Background(), bytes.NewReader(signBundle(t, testKey(1), 7, testImage(4000)))); err != nil {
		t.Fatal(err)
	}
	if s, err := u.NextBoot(); err != nil || s != SlotB {
		t.Fatalf("NextBoot = %s, %v", s, err)
	}
	// The kiosk now runs release 7 from B.
	if err := r.updater(7, SlotB).CommitSlot(SlotB); err != nil {
		t.Fatal(err)
	}
	return before
}

func TestTamperedStateCannotLowerTheFloorOrMoveTheBoot(t *testing.T) {
	older := func(t *testing.T) []byte { return signBundle(t, testKey(1), 6, testImage(100)) }
	tests := []struct {
		name   string
		tamper func(t *testing.T, r sealedRig, before []byte)
	}{
		{"deleted", func(t *testing.T, r sealedRig, _ []byte) {
			if err := os.Remove(r.store.File.Path); err != nil {
				t.Fatal(err)
			}
		}},
		{"hand-written, active slot a and no minimum", func(t *testing.T, r sealedRig, _ []byte) {
			write(t, r.store.File.Path, []byte(`{"active":"a","trial_boots":0,"min_firmware":0,"min_config":0}`))
		}},
		{"older correctly sealed copy", func(t *testing.T, r sealedRig, before []byte) {
			write(t, r.store.File.Path, before)
		}},
		// Only the simulation's counter is a file; a kiosk's is in hardware.
		{"state and simulated counter both deleted", func(t *testing.T, r sealedRig, _ []byte) {
			for _, p := range []string{r.store.File.Path, r.store.File.Path + ".counter"} {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSealedRig(t)
			before := commitV7(t, r)
			tt.tamper(t, r, before)

			// palmd restarts on B running release 7.
			u := r.updater(7, SlotB)
			if _, err := u.Install(context.Background(), bytes.NewReader(older(t))); !errors.Is(err, ErrRollback) {
				t.Fatalf("Install of v6 after tampering = %v, want ErrRollback", err)
			}
			if s, err := u.NextBoot(); err != nil || s != SlotB {
				t.Fatalf("NextBoot = %s, %v; want b, the slot running release 7", s, err)
			}
			st, err := u.State()
			if err != nil {
				t.Fatal(err)
			}
			if st.MinFirmware != 7 || st.Active != SlotB {
				t.Errorf("state after tampering: %+v", st)
			}
		})
	}
}

func TestTamperingIsReported(t *testing.T) {
	r := newSealedRig(t)
	commitV7(t, r)
	u := r.updater(7, SlotB)
	if u.Tampered() != nil {
		t.Fatal("reported before anything happened")
	}
	write(t, r.store.File.Path, []byte("{}"))
	if _, err := u.State(); err != nil {
		t.Fatal(err)
	}
	if err := u.Tampered(); !errors.Is(err, ErrTampered) {
		t.Errorf("Tampered = %v", err)
	}
}

func TestRelease(t *testing.T) {
	exe := testImage(10000)
	var hdr bytes.Buffer
	m := Manifest{Product: testProduct, Version: 7, Release: "1.7.0", Created: testCreated}
	if _, err := SignRelease(&hdr, testKey(1), m, bytes.NewReader(exe)); err != nil {
		t.Fatal(err)
	}
	got, err := testPolicy(0).VerifyRelease(bytes.NewReader(hdr.Bytes()), bytes.NewReader(exe))
	if err != nil || got.Version != 7 || got.Kind != KindRelease {
		t.Fatalf("VerifyRelease = %+v, %v", got, err)
	}
	other := bytes.Clone(exe)
	other[0] ^= 1
	if _, err := testPolicy(0).VerifyRelease(bytes.NewReader(hdr.Bytes()), bytes.NewReader(other)); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("release header over another binary: %v", err)
	}
	var foreign bytes.Buffer
	if _, err := SignRelease(&foreign, testKey(9), m, bytes.NewReader(exe)); err != nil {
		t.Fatal(err)
	}
	if _, err := testPolicy(0).VerifyRelease(&foreign, bytes.NewReader(exe)); !errors.Is(err, ErrBadSignature) {
		t.Errorf("release signed by an unknown key: %v", err)
	}
	if _, err := testPolicy(0).VerifyBundle(joined(hdr.Bytes(), exe)); !errors.Is(err, ErrWrongKind) {
		t.Errorf("release header and binary taken as a firmware bundle: %v", err)
	}
}

func joined(a, b []byte) *bytes.Reader { return bytes.NewReader(append(bytes.Clone(a), b...)) }
