package secureboot

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type rig struct {
	u     *FileUpdater
	store FileStore
	slots FileSlots
}

func newRig(t *testing.T) rig {
	t.Helper()
	dir := t.TempDir()
	slots := FileSlots{SlotA: filepath.Join(dir, "rootfs-a"), SlotB: filepath.Join(dir, "rootfs-b")}
	for _, p := range slots {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store := FileStore{Path: filepath.Join(dir, "slots.json")}
	return rig{u: NewFileUpdater(store, slots, testPolicy(0).Keys, testProduct, nil), store: store, slots: slots}
}

func (r rig) state(t *testing.T) State {
	t.Helper()
	st, err := r.u.State()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (r rig) install(t *testing.T, version uint64, img []byte) {
	t.Helper()
	if _, err := r.u.Install(context.Background(), bytes.NewReader(signBundle(t, testKey(1), version, img))); err != nil {
		t.Fatalf("Install v%d: %v", version, err)
	}
}

func (r rig) boot(t *testing.T, want Slot) {
	t.Helper()
	got, err := r.u.NextBoot()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("NextBoot = %q, want %q", got, want)
	}
}

func TestTrialBootCommit(t *testing.T) {
	r := newRig(t)
	img := testImage(5000)
	r.install(t, 3, img)

	written, err := os.ReadFile(r.slots[SlotB])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, img) {
		t.Fatal("slot B does not hold the image")
	}
	if st := r.state(t); st.Active != SlotA || st.Trial != SlotB || st.Slots[SlotB].Version != 3 {
		t.Fatalf("after install: %+v", st)
	}
	// palmd restarting on A before the reboot commits nothing.
	if err := r.u.CommitSlot(SlotA); err != nil {
		t.Fatal(err)
	}
	r.boot(t, SlotB)
	if err := r.u.CommitSlot(SlotB); err != nil {
		t.Fatal(err)
	}
	st := r.state(t)
	if st.Active != SlotB || st.Trial != "" || st.MinFirmware != 3 {
		t.Fatalf("after commit: %+v", st)
	}
	r.boot(t, SlotB)
	r.boot(t, SlotB)

	// Older firmware is now refused, and the next install goes to slot A.
	_, err = r.u.Install(context.Background(), bytes.NewReader(signBundle(t, testKey(1), 2, img)))
	if !errors.Is(err, ErrRollback) {
		t.Fatalf("install of v2 after v3: err = %v, want ErrRollback", err)
	}
	r.install(t, 4, testImage(300))
	if st := r.state(t); st.Trial != SlotA {
		t.Fatalf("second install went to %q, want slot a", st.Trial)
	}
}

func TestTrialBootFallback(t *testing.T) {
	r := newRig(t)
	r.install(t, 7, testImage(100))
	r.boot(t, SlotB) // the trial boot; palmd never reports healthy
	if _, err := r.u.Install(context.Background(), bytes.NewReader(signBundle(t, testKey(1), 8, testImage(10)))); !errors.Is(err, ErrTrialPending) {
		t.Fatalf("install during a trial: err = %v, want ErrTrialPending", err)
	}
	r.boot(t, SlotA) // watchdog reset: back to the committed slot
	st := r.state(t)
	if st.Active != SlotA || st.Trial != "" || !st.Slots[SlotB].Failed || st.MinFirmware != 0 {
		t.Fatalf("after fallback: %+v", st)
	}
	if err := r.u.CommitSlot(SlotB); err == nil {
		t.Fatal("Commit of the failed slot succeeded")
	}
	r.boot(t, SlotA)
	// The same version may be tried again once fixed.
	r.install(t, 7, testImage(100))
	if st := r.state(t); st.Trial != SlotB || st.Slots[SlotB].Failed {
		t.Fatalf("reinstall: %+v", st)
	}
}

func TestInstallRejectsLeaveNoTrial(t *testing.T) {
	img := testImage(2000)
	good := signBundle(t, testKey(1), 5, img)
	tampered := bytes.Clone(good)
	tampered[len(tampered)-3] ^= 0x40
	tests := []struct {
		name string
		in   []byte
		ctx  func() context.Context
		want error
	}{
		{"tampered image", tampered, context.Background, ErrDigestMismatch},
		{"truncated image", good[:len(good)-100], context.Background, ErrTruncated},
		{"other key", signBundle(t, testKey(2), 5, img), context.Background, ErrBadSignature},
		{"cancelled", good, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.install(t, 1, testImage(10)) // a pending trial that the failed install must clear
			_, err := r.u.Install(tt.ctx(), bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			st := r.state(t)
			if st.Active != SlotA {
				t.Errorf("active = %q, want a", st.Active)
			}
			if tt.want == ErrBadSignature {
				// Refused before anything was written: the earlier trial stands.
				r.boot(t, SlotB)
				return
			}
			if st.Trial != "" || st.Slots[SlotB] != (SlotInfo{}) {
				t.Errorf("a failed install left %+v", st)
			}
			r.boot(t, SlotA)
		})
	}
}

func TestCommitErrors(t *testing.T) {
	r := newRig(t)
	if err := r.u.CommitSlot(SlotB); err == nil {
		t.Error("Commit of an empty inactive slot succeeded")
	}
	r.install(t, 1, testImage(10))
	if err := r.u.CommitSlot(SlotB); err == nil {
		t.Error("Commit of a trial slot that was never booted succeeded")
	}
	if st := r.state(t); st.Active != SlotA || st.MinFirmware != 0 {
		t.Errorf("state changed by refused commits: %+v", st)
	}
}

func TestAcceptConfig(t *testing.T) {
	r := newRig(t)
	ok := func([]byte) error { return nil }
	if _, _, err := r.u.AcceptConfig(bytes.NewReader(signConfig(t, testKey(1), 4, `{"a":1}`)), ok); err != nil {
		t.Fatal(err)
	}
	if got := r.state(t).MinConfig; got != 4 {
		t.Fatalf("MinConfig = %d, want 4", got)
	}
	// A config that palmd's check refuses does not raise the counter.
	bad := errors.New("config: device_id: must not be empty")
	_, _, err := r.u.AcceptConfig(bytes.NewReader(signConfig(t, testKey(1), 6, `{}`)), func([]byte) error { return bad })
	if !errors.Is(err, bad) {
		t.Fatalf("err = %v, want the check's error", err)
	}
	if got := r.state(t).MinConfig; got != 4 {
		t.Fatalf("MinConfig = %d after a refused config, want 4", got)
	}
	_, _, err = r.u.AcceptConfig(bytes.NewReader(signConfig(t, testKey(1), 3, `{"a":0}`)), ok)
	if !errors.Is(err, ErrRollback) {
		t.Fatalf("older config: err = %v, want ErrRollback", err)
	}
	_, payload, err := r.u.AcceptConfig(bytes.NewReader(signConfig(t, testKey(1), 4, `{"a":2}`)), ok)
	if err != nil || string(payload) != `{"a":2}` {
		t.Fatalf("same version: %q, %v", payload, err)
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	fs := FileStore{Path: filepath.Join(dir, "slots.json")}
	st, err := fs.Load()
	if err != nil || st.Active != SlotA || st.MinFirmware != 0 {
		t.Fatalf("missing file: %+v, %v; want the initial state", st, err)
	}
	want := State{Active: SlotB, Trial: SlotA, TrialBoots: 1, MinFirmware: 9, MinConfig: 2,
		Slots: map[Slot]SlotInfo{SlotA: {Version: 10, SHA256: "ab"}, SlotB: {Version: 9}}}
	if err := fs.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := fs.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Active != want.Active || got.Trial != want.Trial || got.TrialBoots != 1 || got.MinFirmware != 9 ||
		got.MinConfig != 2 || got.Slots[SlotA] != want.Slots[SlotA] {
		t.Fatalf("round trip: %+v, want %+v", got, want)
	}
	if err := fs.Save(State{Active: "c"}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("saving an invalid state: err = %v, want ErrMalformed", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the state file (no temporaries)", len(entries))
	}
	if err := os.WriteFile(fs.Path, []byte(`{"active":"a"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Load(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("torn file: err = %v, want ErrMalformed", err)
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"initial", `{"active":"a","trial_boots":0,"min_firmware":0,"min_config":0}`, true},
		{"trial", `{"active":"a","trial":"b","trial_boots":1,"min_firmware":3,"min_config":0,"slots":{"b":{"version":4,"sha256":"00"}}}`, true},
		{"bad active", `{"active":"c"}`, false},
		{"trial on active slot", `{"active":"a","trial":"a","slots":{"a":{"version":1,"sha256":""}}}`, false},
		{"trial without image", `{"active":"a","trial":"b"}`, false},
		{"boots without trial", `{"active":"a","trial_boots":1}`, false},
		{"too many boots", `{"active":"a","trial":"b","trial_boots":2,"slots":{"b":{"version":1,"sha256":""}}}`, false},
		{"bad slot key", `{"active":"a","slots":{"x":{"version":1,"sha256":""}}}`, false},
		{"unknown field", `{"active":"a","boot":1}`, false},
		{"trailing", `{"active":"a"} {}`, false},
		{"negative counter", `{"active":"a","min_firmware":-1}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseState([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok = %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestBootedSlot(t *testing.T) {
	tests := []struct {
		in   string
		want Slot // "": an error
	}{
		{"root=PARTUUID=x ro rootwait palmd.slot=a\n", SlotA},
		{"palmd.slot=b", SlotB},
		{"console=tty1  palmd.slot=b quiet", SlotB},
		{"root=/dev/mmcblk0p2 ro", ""},
		{"palmd.slot=c", ""},
		{"palmd.slot=", ""},
		{"palmd.slot=a palmd.slot=a", ""},
		{"xpalmd.slot=a", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := BootedSlot([]byte(tt.in))
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("BootedSlot(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("BootedSlot(%q): err = %v, want ErrMalformed", tt.in, err)
		}
	}
}

// fullSlots is a Slots whose devices take only limit bytes.
type fullSlots struct{ limit int64 }

type fullDevice struct{ limit int64 }

func (f fullSlots) OpenSlot(Slot) (SlotWriter, error) { return fullDevice(f), nil }

func (d fullDevice) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > d.limit {
		return 0, errors.New("no space left on device")
	}
	return len(p), nil
}
func (fullDevice) Sync() error  { return nil }
func (fullDevice) Close() error { return nil }

func TestInstallSlotTooSmall(t *testing.T) {
	store := FileStore{Path: filepath.Join(t.TempDir(), "slots.json")}
	u := NewFileUpdater(store, fullSlots{limit: 100}, testPolicy(0).Keys, testProduct, nil)
	_, err := u.Install(context.Background(), bytes.NewReader(signBundle(t, testKey(1), 1, testImage(100_000))))
	if err == nil || !strings.HasPrefix(err.Error(), "secureboot: writing slot b: ") {
		t.Fatalf("err = %v, want a write error naming slot b", err)
	}
	st, err := u.State()
	if err != nil || st.Trial != "" {
		t.Fatalf("state after a failed write: %+v, %v", st, err)
	}
}
