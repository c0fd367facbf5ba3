package secureboot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRAUC plays rauc and the boot loader's trial boot (the Raspberry Pi's
// tryboot: the primary slot is booted once on trial; unless it is marked
// good before the next reboot, the boot loader falls back).
type fakeRAUC struct {
	content  map[Slot][]byte
	good     map[Slot]bool
	booted   Slot
	primary  Slot
	attempts map[Slot]int
	calls    []string
	fail     map[string]error // by command: "install", "mark-good", "status"
}

func newFakeRAUC(factory []byte) *fakeRAUC {
	return &fakeRAUC{
		content: map[Slot][]byte{SlotA: factory}, good: map[Slot]bool{SlotA: true},
		booted: SlotA, primary: SlotA, attempts: map[Slot]int{}, fail: map[string]error{},
	}
}

func slotName(s Slot) string {
	if s == SlotA {
		return "rootfs.0"
	}
	return "rootfs.1"
}

func (f *fakeRAUC) run(_ context.Context, name string, args ...string) ([]byte, error) {
	if name != "rauc" {
		return nil, fmt.Errorf("ran %q, not rauc", name)
	}
	f.calls = append(f.calls, strings.Join(args, " "))
	switch {
	case len(args) == 2 && args[0] == "status" && args[1] == "--output-format=json":
		if err := f.fail["status"]; err != nil {
			return nil, err
		}
		var slots []map[string]any
		for _, s := range []Slot{SlotA, SlotB} {
			state, status := "inactive", "bad"
			if s == f.booted {
				state = "booted"
			}
			if f.good[s] {
				status = "good"
			}
			slots = append(slots, map[string]any{slotName(s): map[string]any{
				"class": "rootfs", "device": "/dev/mmcblk0p" + map[Slot]string{SlotA: "2", SlotB: "3"}[s],
				"type": "ext4", "bootname": strings.ToUpper(string(s)), "state": state, "parent": nil,
				"mountpoint": nil, "boot_status": status,
			}})
		}
		slots = append(slots, map[string]any{"efi.0": map[string]any{"class": "efi", "bootname": nil, "state": "inactive"}})
		return json.Marshal(map[string]any{"compatible": "palmkiosk-rpi4", "variant": "",
			"booted": strings.ToUpper(string(f.booted)), "boot_primary": slotName(f.primary), "slots": slots})
	case len(args) == 3 && args[0] == "status" && args[1] == "mark-good" && args[2] == "booted":
		if err := f.fail["mark-good"]; err != nil {
			return nil, err
		}
		f.good[f.booted] = true
		return nil, nil
	case len(args) == 2 && args[0] == "install":
		if err := f.fail["install"]; err != nil {
			return nil, err
		}
		if !strings.HasSuffix(args[1], ".raucb") {
			return nil, fmt.Errorf("rauc: %s: bundles must end in .raucb", args[1])
		}
		b, err := os.ReadFile(args[1])
		if err != nil {
			return nil, err
		}
		other := f.booted.Other()
		f.content[other], f.good[other], f.attempts[other] = b, false, 0
		f.primary = other
		return nil, nil
	}
	return nil, fmt.Errorf("fake rauc: unexpected %q", args)
}

// reboot is the boot loader: a primary slot not yet good is tried once.
func (f *fakeRAUC) reboot() {
	switch {
	case f.good[f.primary]:
	case f.attempts[f.primary] == 0:
		f.attempts[f.primary]++
	default:
		f.primary = f.primary.Other()
	}
	f.booted = f.primary
}

func (f *fakeRAUC) installs() int {
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, "install ") {
			n++
		}
	}
	return n
}

type raucRig struct {
	dir   string
	fake  *fakeRAUC
	store SealedStore
}

func newRAUCRig(t *testing.T) raucRig {
	t.Helper()
	dir := t.TempDir()
	stage := filepath.Join(dir, "stage")
	if err := os.Mkdir(stage, 0o700); err != nil {
		t.Fatal(err)
	}
	return raucRig{dir: stage, fake: newFakeRAUC([]byte("factory v1")), store: SealedStore{File: newSealed(t, dir, "slots", testDeviceKey(1))}}
}

// palmd is a palmd process running on whatever the fake booted, release 1
// on A and the installed version on B.
func (r raucRig) palmd(floor uint64) *RAUC {
	return NewRAUC(r.store, r.dir, testPolicy(0).Keys, testProduct, nil, r.fake.run, Floor(floor))
}

func raucBundle(t *testing.T, version uint64) ([]byte, []byte) {
	inner := []byte(fmt.Sprintf("hsqs… a RAUC bundle, version %d …", version))
	inner = append(inner, testImage(20000)...)
	return signBundle(t, testKey(1), version, inner), inner
}

func TestRAUCUpdate(t *testing.T) {
	ctx := context.Background()
	r := newRAUCRig(t)
	bundle, inner := raucBundle(t, 2)
	if _, err := r.palmd(1).Install(ctx, bytes.NewReader(bundle)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.fake.content[SlotB], inner) {
		t.Fatal("rauc install was not given the verified inner bundle")
	}
	if left, _ := os.ReadDir(r.dir); len(left) != 0 {
		t.Errorf("staging left %v behind", left)
	}
	st, err := r.palmd(1).Status(ctx)
	if err != nil || st.Trial != SlotB || st.Booted != SlotA {
		t.Fatalf("before reboot: %+v, %v", st, err)
	}
	r.fake.reboot()
	if err := r.palmd(2).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.fake.good[SlotB] {
		t.Error("Commit did not run rauc status mark-good booted")
	}
	st, err = r.palmd(2).Status(ctx)
	if err != nil || st.Active != SlotB || st.Trial != "" || st.MinFirmware != 2 || st.Version != 2 {
		t.Fatalf("after commit: %+v, %v", st, err)
	}
	if saved, err := r.store.Load(); err != nil || saved.MinFirmware != 2 {
		t.Fatalf("sealed state after commit: %+v, %v", saved, err)
	}
	r.fake.reboot()
	if r.fake.booted != SlotB {
		t.Errorf("after commit the boot loader boots %s", r.fake.booted)
	}
	// The committed slot commits again without touching RAUC.
	n := len(r.fake.calls)
	if err := r.palmd(2).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.fake.calls[n:]; len(got) != 1 || got[0] != "status --output-format=json" {
		t.Errorf("second commit ran %q", got)
	}
}

// countingReader counts the bytes taken from r.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestRAUCRefusesBeforeRAUCSeesAByte(t *testing.T) {
	ctx := context.Background()
	bundle, _ := raucBundle(t, 2)
	tests := []struct {
		name   string
		floor  uint64
		bundle []byte
		want   error
	}{
		{"older than the running release", 3, bundle, ErrRollback},
		{"unknown key", 1, signBundle(t, testKey(7), 5, testImage(20000)), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRAUCRig(t)
			src := &countingReader{r: bytes.NewReader(tt.bundle)}
			if _, err := r.palmd(tt.floor).Install(ctx, src); !errors.Is(err, tt.want) {
				t.Fatalf("Install = %v, want %v", err, tt.want)
			}
			if r.fake.installs() != 0 {
				t.Error("rauc install ran")
			}
			if src.n > 10+MaxManifestSize+64 {
				t.Errorf("read %d of %d bytes before refusing; the header is at most %d", src.n, len(tt.bundle), 10+MaxManifestSize+64)
			}
		})
	}
}

// failingReader delivers the first n bytes of b, then fails: the network
// (or the process) dies during the download.
type failingReader struct {
	b   []byte
	n   int
	off int
}

var errCut = errors.New("connection cut")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.off >= f.n {
		return 0, errCut
	}
	k := copy(p, f.b[f.off:f.n])
	f.off += k
	return k, nil
}

// failingStore fails its next Save: the power goes while the state is saved.
type failingStore struct {
	StateStore
	failNext bool
}

func (f *failingStore) Save(s State) error {
	if f.failNext {
		f.failNext = false
		return errPowerCut
	}
	return f.StateStore.Save(s)
}

func TestRAUCKilledAtEveryStep(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		step string
		kill func(t *testing.T, r raucRig, store *failingStore, bundle []byte)
	}{
		{"download", func(t *testing.T, r raucRig, _ *failingStore, bundle []byte) {
			_, err := r.palmd(1).Install(ctx, &failingReader{b: bundle, n: len(bundle) / 2})
			if !errors.Is(err, errCut) {
				t.Fatalf("Install = %v", err)
			}
		}},
		{"verify", func(t *testing.T, r raucRig, _ *failingStore, bundle []byte) {
			bad := bytes.Clone(bundle)
			bad[len(bad)-1] ^= 0xff
			if _, err := r.palmd(1).Install(ctx, bytes.NewReader(bad)); !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("Install = %v", err)
			}
		}},
		{"mark", func(t *testing.T, r raucRig, store *failingStore, bundle []byte) {
			store.failNext = true
			p := NewRAUC(store, r.dir, testPolicy(0).Keys, testProduct, nil, r.fake.run, Floor(1))
			if _, err := p.Install(ctx, bytes.NewReader(bundle)); !errors.Is(err, errPowerCut) {
				t.Fatalf("Install = %v", err)
			}
		}},
		{"write", func(t *testing.T, r raucRig, _ *failingStore, bundle []byte) {
			r.fake.fail["install"] = errors.New("rauc: write failed")
			if _, err := r.palmd(1).Install(ctx, bytes.NewReader(bundle)); err == nil {
				t.Fatal("Install succeeded")
			}
			delete(r.fake.fail, "install")
		}},
		{"reboot", func(t *testing.T, r raucRig, _ *failingStore, bundle []byte) {
			if _, err := r.palmd(1).Install(ctx, bytes.NewReader(bundle)); err != nil {
				t.Fatal(err)
			}
			r.fake.reboot() // the trial boot dies before palmd is healthy
		}},
		{"commit", func(t *testing.T, r raucRig, _ *failingStore, bundle []byte) {
			if _, err := r.palmd(1).Install(ctx, bytes.NewReader(bundle)); err != nil {
				t.Fatal(err)
			}
			r.fake.reboot()
			r.fake.fail["mark-good"] = errors.New("rauc: D-Bus gone")
			if err := r.palmd(2).Commit(ctx); err == nil {
				t.Fatal("Commit succeeded")
			}
			delete(r.fake.fail, "mark-good")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			r := newRAUCRig(t)
			store := &failingStore{StateStore: r.store}
			bundle, inner := raucBundle(t, 2)
			tt.kill(t, r, store, bundle)
			if left, _ := os.ReadDir(r.dir); len(left) != 0 {
				t.Errorf("killed at %s: staging left %v", tt.step, left)
			}

			// The kiosk reboots and palmd comes up on whatever booted.
			r.fake.reboot()
			booted := r.fake.booted
			if c := r.fake.content[booted]; !bytes.Equal(c, []byte("factory v1")) && !bytes.Equal(c, inner) {
				t.Fatalf("killed at %s: booted slot %s holds unverified bytes", tt.step, booted)
			}
			floor := map[Slot]uint64{SlotA: 1, SlotB: 2}[booted]
			if err := r.palmd(floor).Commit(ctx); err != nil {
				t.Fatal(err)
			}
			// The cloud retries until the kiosk reports the new version.
			if st, _ := r.palmd(floor).Status(ctx); st.Active != SlotB || st.Version != 2 {
				if _, err := r.palmd(floor).Install(ctx, bytes.NewReader(bundle)); err != nil {
					t.Fatalf("retry after %s: %v", tt.step, err)
				}
				r.fake.reboot()
				if err := r.palmd(2).Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			st, err := r.palmd(2).Status(ctx)
			if err != nil || st.Booted != SlotB || st.Active != SlotB || st.Trial != "" || st.MinFirmware != 2 {
				t.Fatalf("killed at %s: ends on %+v, %v", tt.step, st, err)
			}
			if !bytes.Equal(r.fake.content[SlotB], inner) || !r.fake.good[SlotB] {
				t.Errorf("killed at %s: slot B is not the good new release", tt.step)
			}
			if saved, err := r.store.Load(); err != nil || saved.MinFirmware != 2 || saved.Active != SlotB {
				t.Errorf("killed at %s: sealed state %+v, %v", tt.step, saved, err)
			}
		})
	}
}

func TestParseRAUCStatus(t *testing.T) {
	bootnames := map[string]Slot{"A": SlotA, "B": SlotB}
	// The shape of rauc 1.8's "rauc status --output-format=json".
	real := `{"compatible":"palmkiosk-rpi4","variant":"","booted":"B","boot_primary":"rootfs.1","slots":[
	 {"rootfs.0":{"class":"rootfs","device":"/dev/mmcblk0p2","type":"ext4","bootname":"A","state":"inactive","parent":null,"mountpoint":null,"boot_status":"good","slot_status":{"bundle":{"compatible":"palmkiosk-rpi4"}}}},
	 {"rootfs.1":{"class":"rootfs","device":"/dev/mmcblk0p3","type":"ext4","bootname":"B","state":"booted","parent":null,"mountpoint":"/","boot_status":"bad"}}]}`
	v, err := parseRAUCStatus([]byte(real), bootnames)
	if err != nil || v.booted != SlotB || v.primary != SlotB || v.bootedGood {
		t.Fatalf("parse = %+v, %v", v, err)
	}
	for _, bad := range []string{`{}`, `[`, `{"slots":[{"x":{"bootname":"A","state":"booted"}},{"y":{"bootname":"B","state":"booted"}}]}`} {
		if _, err := parseRAUCStatus([]byte(bad), bootnames); !errors.Is(err, ErrMalformed) {
			t.Errorf("parse(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzParseRAUCStatus(f *testing.F) {
	f.Add([]byte(`{"booted":"A","boot_primary":"rootfs.0","slots":[{"rootfs.0":{"bootname":"A","state":"booted","boot_status":"good"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseRAUCStatus(b, map[string]Slot{"A": SlotA, "B": SlotB})
		if err == nil && !v.booted.valid() {
			t.Fatalf("accepted with booted %q", v.booted)
		}
	})
}

// TestExecRunsTheRealCommand runs Exec against a stand-in rauc script, so
// the command line palmd builds is what a shell receives.
func TestExecRunsTheRealCommand(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "rauc")
	write(t, script, []byte("#!"+sh+"\nif [ \"$1 $2\" = 'status --output-format=json' ]; then echo '{\"ok\":1}'; exit 0; fi\necho \"no: $*\" >&2\nexit 3\n"))
	if err := os.Chmod(script, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := Exec(context.Background(), script, "status", "--output-format=json")
	if err != nil || strings.TrimSpace(string(out)) != `{"ok":1}` {
		t.Fatalf("Exec = %q, %v", out, err)
	}
	_, err = Exec(context.Background(), script, "install", "/x.raucb")
	if err == nil || !strings.Contains(err.Error(), "no: install /x.raucb") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command: %v", err)
	}
}

func TestRAUCAcceptConfig(t *testing.T) {
	r := newRAUCRig(t)
	p := r.palmd(1)
	ok := func([]byte) error { return nil }
	if _, _, err := p.AcceptConfig(bytes.NewReader(signConfig(t, testKey(1), 4, `{"device_id":"k-1"}`)), ok); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.AcceptConfig(bytes.NewReader(signConfig(t, testKey(1), 3, `{}`)), ok); !errors.Is(err, ErrRollback) {
		t.Errorf("older config: %v", err)
	}
	// The minimum is in the sealed state: a restarted palmd keeps it.
	if st, err := r.palmd(1).Status(context.Background()); err != nil || st.MinConfig != 4 || st.Tampered {
		t.Errorf("status after restart: %+v, %v", st, err)
	}
	write(t, r.store.File.Path, []byte("{}"))
	if st, err := r.palmd(1).Status(context.Background()); err != nil || !st.Tampered {
		t.Errorf("status after a rewritten state: %+v, %v", st, err)
	}
}
