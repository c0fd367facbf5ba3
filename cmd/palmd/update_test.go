//go:build sim

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/wire"
)

const updateDevice = "kiosk-upd-1"

// updateEnv is a cloud (the embedded server and reference cloud) that has
// published signed bundles, and a kiosk's data directory.
type updateEnv struct {
	dev     *dev.Dev
	dir     string
	keys    string // trusted keys file
	priv    ed25519.PrivateKey
	images  map[uint64][]byte
	bundles map[uint64][]byte
	updates map[uint64]wire.Update
	release string // the running palmd's signed release header, if any
	logs    *syncBuffer
}

const imageSize = 200 << 10

func newUpdateEnv(t *testing.T) *updateEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &syncBuffer{}
	d, err := dev.Start(ctx, updateDevice, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	pub, priv, _ := ed25519.GenerateKey(nil)
	e := &updateEnv{dev: d, dir: t.TempDir(), priv: priv, images: map[uint64][]byte{}, bundles: map[uint64][]byte{}, updates: map[uint64]wire.Update{}, logs: logs}
	pem, err := secureboot.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	e.keys = filepath.Join(t.TempDir(), "trusted-keys.pem")
	if err := os.WriteFile(e.keys, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{2, 3} {
		e.publish(t, v, priv)
	}
	return e
}

// config writes the kiosk's credential files into a new directory and
// returns a function that makes palmd's config.json for them, with extra
// top-level fields (`"log_level": "debug"`, `"console": {...}`) added.
func (e *updateEnv) config(t *testing.T) (dir string, doc func(extra string) []byte) {
	t.Helper()
	dir = t.TempDir()
	files, err := e.dev.Device.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"kiosk.creds": files.Creds, "ca.pem": files.CA, "kiosk.crt": files.Cert, "kiosk.key": files.Key} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	return dir, func(extra string) []byte {
		return fmt.Appendf(nil, `{"device_id": %q, "hardware": "sim", %s,
  "uplink": {"url": %q, "creds": %q, "ca": %q, "cert": %q, "key": %q, "seal_key": %q, "payment_key": %q, "sign_key": %q},
  "update": {"dir": %q, "keys": %q}}`, updateDevice, extra, e.dev.URL,
			filepath.Join(dir, "kiosk.creds"), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "kiosk.crt"), filepath.Join(dir, "kiosk.key"),
			b64(e.dev.SealKey), b64(e.dev.PaymentKey), b64(e.dev.SignKey), filepath.Join(dir, "state"), e.keys)
	}
}

// publish signs a bundle of version v with key and publishes it.
func (e *updateEnv) publish(t *testing.T, v uint64, key ed25519.PrivateKey) wire.Update {
	t.Helper()
	img := make([]byte, imageSize)
	rand.Read(img)
	var b bytes.Buffer
	if _, err := secureboot.SignBundle(&b, key, secureboot.Manifest{Product: "palmkiosk", Version: v,
		Release: "1." + string(rune('0'+v)), Created: time.Unix(1_700_000_000, 0)}, bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	e.bundles[v] = bytes.Clone(b.Bytes())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := cloud.PublishBundle(ctx, e.dev.CloudConn(), cloud.StoreOptions{Memory: true},
		secureboot.Policy{Keys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, Product: "palmkiosk"},
		"palmkiosk-"+string(rune('0'+v))+".bundle", &b)
	if err != nil {
		t.Fatal(err)
	}
	e.images[v], e.updates[v] = img, u
	return u
}

// send queues the update command for version v, as the cloud does.
func (e *updateEnv) send(t *testing.T, u wire.Update) {
	t.Helper()
	if err := e.dev.Cloud.Send(e.dev.CloudConn(), updateDevice, wire.Command{Type: wire.CmdUpdate, Update: &u}); err != nil {
		t.Fatal(err)
	}
}

// fakeKiosk is the supervisor as the update sees it: a session runs until
// finish is called, if one was started.
type fakeKiosk struct {
	mu       sync.Mutex
	updating bool
	session  string
	modes    []bool
}

func (k *fakeKiosk) Updating(on bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.updating = on
	k.modes = append(k.modes, on)
}

func (k *fakeKiosk) Status() firmware.Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := firmware.ModeServing
	if k.updating {
		m = firmware.ModeUpdating
	}
	return firmware.Status{Mode: m, Session: k.session}
}

func (k *fakeKiosk) Healthy() bool { return true }

// kioskProc is one run of palmd's update machinery, from its boot to its
// death: its state on disk is all that the next one sees.
type kioskProc struct {
	state  *deviceState
	drv    *updateDriver
	kiosk  *fakeKiosk
	clock  *clockwork.FakeClock // the update driver's: it stands still until a test moves it
	client *uplink.Client
	events chan bus.Event
	booted chan error // the boot's commitWhenHealthy
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// boot starts palmd's update machinery on e's data directory; src wraps
// the bundle source (nil: as is).
func (e *updateEnv) boot(t *testing.T, hooks updateHooks, src func(bundleSource) bundleSource) *kioskProc {
	t.Helper()
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	st, err := openState(config.Update{Dir: e.dir, Counter: "file", Updater: "file", Keys: e.keys, Release: e.release, Product: "palmkiosk"}, time.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &kioskProc{state: st, kiosk: &fakeKiosk{}, clock: clockwork.NewFakeClock(), events: make(chan bus.Event, 64), booted: make(chan error, 1), cancel: cancel}
	emit := func(ev bus.Event) { p.events <- ev }
	if p.drv, err = newUpdateDriver(st, p.kiosk, p.clock, emit, log, hooks); err != nil {
		t.Fatal(err)
	}
	var source bundleSource = lazySource{p}
	if src != nil {
		source = src(source)
	}
	opts := append(e.dev.Device.Options(), uplink.Logger(log), uplink.CommandSequence(st.seq),
		uplink.OnCommand(func(c wire.Command) {
			if c.Type == wire.CmdUpdate {
				p.drv.start(ctx, *c.Update, source, &p.wg)
			}
		}))
	if p.client, err = uplink.Dial(e.dev.URL, updateDevice, e.dev.SignKey, opts...); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	close(ready)
	go func() { p.booted <- p.drv.commitWhenHealthy(ctx, ready) }()
	return p
}

// lazySource is the process's client, once dialled.
type lazySource struct{ p *kioskProc }

func (l lazySource) Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error) {
	return l.p.client.Bundle(ctx, u)
}

// kill ends the process: nothing it held in memory survives.
func (p *kioskProc) kill() {
	p.cancel()
	p.wg.Wait()
	<-p.booted
	p.client.Close()
	p.state.Close()
}

// await returns the first update event whose reason starts with one of
// prefixes.
func (p *kioskProc) await(t *testing.T, prefixes ...string) bus.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-p.events:
			for _, pre := range prefixes {
				if ev.Event == evUpdate && strings.HasPrefix(ev.Reason, pre) {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no update event %v", prefixes)
		}
	}
}

// check asserts that the booted slot holds a verified image (the factory
// slot A, or a slot whose contents match the digest recorded when it was
// installed) and returns the status.
func (e *updateEnv) check(t *testing.T, p *kioskProc) secureboot.Status {
	t.Helper()
	ctx := context.Background()
	st, err := p.drv.status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	state, err := p.drv.updater().(*secureboot.FileUpdater).State()
	if err != nil {
		t.Fatal(err)
	}
	info, ok := state.Slots[st.Booted]
	if !ok {
		if st.Booted != secureboot.SlotA {
			t.Fatalf("booted slot %s has no verified image", st.Booted)
		}
		return st
	}
	b, err := os.ReadFile(filepath.Join(e.dir, "slot-"+string(st.Booted)))
	if err != nil || len(b) < imageSize {
		t.Fatalf("slot %s: %d bytes, %v", st.Booted, len(b), err)
	}
	sum := sha256.Sum256(b[:imageSize])
	if hex.EncodeToString(sum[:]) != info.SHA256 || info.Failed {
		t.Fatalf("booted slot %s does not hold the image it was verified with (failed=%v)", st.Booted, info.Failed)
	}
	return st
}

var errKilled = errors.New("killed")

// killingReader fails once it has passed n bytes: the power went.
type killingReader struct {
	r      io.ReadCloser
	n      int
	killed func()
}

func (k *killingReader) Read(p []byte) (int, error) {
	if k.n <= 0 {
		k.killed()
		return 0, errKilled
	}
	if len(p) > k.n {
		p = p[:k.n]
	}
	n, err := k.r.Read(p)
	k.n -= n
	return n, err
}

func (k *killingReader) Close() error { return k.r.Close() }

type killingSource struct {
	src    bundleSource
	after  int
	killed func()
}

func (k killingSource) Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error) {
	rc, err := k.src.Bundle(ctx, u)
	if err != nil {
		return nil, err
	}
	return &killingReader{r: rc, n: k.after, killed: k.killed}, nil
}

// killingSlots fail the write after the first one.
type killingSlots struct {
	secureboot.Slots
	killed func()
}

func (k killingSlots) OpenSlot(s secureboot.Slot) (secureboot.SlotWriter, error) {
	w, err := k.Slots.OpenSlot(s)
	if err != nil {
		return nil, err
	}
	return &killingWriter{SlotWriter: w, killed: k.killed}, nil
}

type killingWriter struct {
	secureboot.SlotWriter
	writes int
	killed func()
}

func (k *killingWriter) WriteAt(p []byte, off int64) (int, error) {
	if k.writes++; k.writes > 1 {
		k.killed()
		return 0, errKilled
	}
	return k.SlotWriter.WriteAt(p, off)
}

// killingStore fails the save that marks a trial slot.
type killingStore struct {
	secureboot.StateStore
	killed func()
}

func (k killingStore) Save(st secureboot.State) error {
	if st.Trial != "" {
		k.killed()
		return errKilled
	}
	return k.StateStore.Save(st)
}

// TestUpdateKilledAtEveryStep runs palmd's update of a kiosk from version 0
// (the factory slot) to 2, over the cloud's object store, and kills it at
// each step: during the download, during the verification of the signed
// header, while writing the slot, when marking the trial, before the
// reboot and before the commit. Each time, the next boot runs a verified
// slot, and once the cloud sends the update again the kiosk ends on
// version 2, committed.
func TestUpdateKilledAtEveryStep(t *testing.T) {
	steps := []struct {
		name  string
		hooks func(killed func()) (updateHooks, func(bundleSource) bundleSource)
	}{
		{"download", func(killed func()) (updateHooks, func(bundleSource) bundleSource) {
			return updateHooks{}, func(s bundleSource) bundleSource { return killingSource{s, imageSize / 2, killed} }
		}},
		{"verify", func(killed func()) (updateHooks, func(bundleSource) bundleSource) {
			return updateHooks{}, func(s bundleSource) bundleSource { return killingSource{s, 40, killed} } // inside the signed header
		}},
		{"write", func(killed func()) (updateHooks, func(bundleSource) bundleSource) {
			return updateHooks{slots: func(s secureboot.Slots) secureboot.Slots { return killingSlots{s, killed} }}, nil
		}},
		{"mark", func(killed func()) (updateHooks, func(bundleSource) bundleSource) {
			return updateHooks{store: func(s secureboot.StateStore) secureboot.StateStore { return killingStore{s, killed} }}, nil
		}},
		{"reboot", func(killed func()) (updateHooks, func(bundleSource) bundleSource) {
			return updateHooks{step: func(name string) error {
				if name == "reboot" {
					killed()
					return errKilled
				}
				return nil
			}}, nil
		}},
		{"commit", func(killed func()) (updateHooks, func(bundleSource) bundleSource) {
			return updateHooks{step: func(name string) error {
				if name == "commit" {
					killed()
					return errKilled
				}
				return nil
			}}, nil
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			e := newUpdateEnv(t)
			var once sync.Once
			dead := make(chan struct{})
			hooks, src := step.hooks(func() { once.Do(func() { close(dead) }) })
			p := e.boot(t, hooks, src)
			e.send(t, e.updates[2])
			select {
			case <-dead:
			case <-time.After(30 * time.Second):
				t.Fatalf("the update never reached the step %s", step.name)
			}
			p.kill()

			p = e.boot(t, updateHooks{}, nil) // power on
			defer func() { p.kill() }()
			if err := <-p.booted; err != nil {
				t.Fatal(err)
			}
			p.booted <- nil // for kill
			st := e.check(t, p)
			if st.Version != 2 || st.Trial != "" {
				if st.Version != 0 || st.Active != st.Booted {
					t.Fatalf("after the kill: %+v, want the factory slot, committed", st)
				}
				e.send(t, e.updates[2])
				p.await(t, "committed:")
			}
			st = e.check(t, p)
			if st.Version != 2 || st.Active != st.Booted || st.Trial != "" || st.MinFirmware != 2 {
				t.Fatalf("ended on %+v, want version 2 committed", st)
			}
		})
	}
}

// TestUpdateRefusals: an older bundle, one signed with an unknown key and
// one whose bytes are not those the command names are refused, and the
// kiosk stays on its committed version.
func TestUpdateRefusals(t *testing.T) {
	e := newUpdateEnv(t)
	p := e.boot(t, updateHooks{}, nil)
	defer func() { p.kill() }()
	e.send(t, e.updates[3])
	p.await(t, "committed:3")

	_, other, _ := ed25519.GenerateKey(nil)
	unknown := e.publish(t, 4, other)
	tampered := e.updates[2]
	tampered.Version = 5 // passes the early check; the signed manifest says 2
	wrongDigest := e.publish(t, 6, e.priv)
	wrongDigest.SHA256 = strings.Repeat("0", 64)
	// A bundle changed in the bucket behind the cloud's back, named by a
	// command that matches its bytes (a cloud that signs what it is given).
	changed := bytes.Clone(e.bundles[3])
	changed[len(changed)-1] ^= 1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, err := jetstream.New(e.dev.CloudConn())
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, wire.BundleBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.PutBytes(ctx, "changed.bundle", changed); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(changed)
	tamperedInBucket := wire.Update{Object: "changed.bundle", Version: 7, Size: int64(len(changed)), SHA256: hex.EncodeToString(sum[:])}
	for _, tt := range []struct {
		name string
		u    wire.Update
		want string
	}{
		{"tampered in the bucket", tamperedInBucket, "refused:digest"},
		{"older", e.updates[2], "refused:rollback"},
		{"unknown key", unknown, "refused:bad_signature"},
		{"older behind a newer command", tampered, "refused:rollback"},
		{"bytes not the command's", wrongDigest, "refused:bundle_mismatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.send(t, tt.u)
			if ev := p.await(t, "refused:", "installed:", "committed:"); ev.Reason != tt.want {
				t.Fatalf("event %q, want %q", ev.Reason, tt.want)
			}
			st := e.check(t, p)
			if st.Version != 3 || st.Trial != "" || st.MinFirmware != 3 {
				t.Fatalf("status %+v, want version 3 committed", st)
			}
		})
	}
}

// TestUpdateFetchBreaksOff: a download that breaks off half-way (the
// network, once uplink's retries are spent) is reported failed:fetch, not
// as a refused bundle; the kiosk stays on its version, and the same
// command sent again installs it.
func TestUpdateFetchBreaksOff(t *testing.T) {
	e := newUpdateEnv(t)
	var broken atomic.Bool
	p := e.boot(t, updateHooks{}, func(s bundleSource) bundleSource { return breakingSource{s, &broken} })
	defer func() { p.kill() }()
	e.send(t, e.updates[2])
	p.await(t, "committed:2")
	broken.Store(true)
	e.send(t, e.updates[3])
	if ev := p.await(t, "failed:", "refused:", "installed:", "committed:"); ev.Reason != "failed:fetch" {
		t.Fatalf("a download broken off: event %q, want failed:fetch", ev.Reason)
	}
	if st := e.check(t, p); st.Version != 2 || st.Trial != "" {
		t.Fatalf("after the broken download: status %+v, want version 2 committed", st)
	}
	broken.Store(false)
	e.send(t, e.updates[3])
	p.await(t, "committed:3")
}

// breakingSource breaks each download off after its first 4 KiB while
// broken is set, as uplink reports a download it gave up on.
type breakingSource struct {
	src    bundleSource
	broken *atomic.Bool
}

func (b breakingSource) Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error) {
	rc, err := b.src.Bundle(ctx, u)
	if err != nil || !b.broken.Load() {
		return rc, err
	}
	return &breakingReader{ReadCloser: rc, n: 4 << 10}, nil
}

type breakingReader struct {
	io.ReadCloser
	n int
}

func (b *breakingReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, fmt.Errorf("%w: bytes from sequence 9: nats: timeout", uplink.ErrBundleFetch)
	}
	n, err := b.ReadCloser.Read(p[:min(len(p), b.n)])
	b.n -= n
	return n, err
}

// TestUpdateWaitsForTheSession: the kiosk enters its updating mode while
// the bundle installs, and the reboot waits until the running session has
// finished.
func TestUpdateWaitsForTheSession(t *testing.T) {
	e := newUpdateEnv(t)
	p := e.boot(t, updateHooks{}, nil)
	defer func() { p.kill() }()
	p.kiosk.mu.Lock()
	p.kiosk.session = "identify"
	p.kiosk.mu.Unlock()
	e.send(t, e.updates[2])
	p.await(t, "installed:2")
	// The driver looks for the session's end every 50 ms of its clock:
	// once it waits on the clock it has looked and found the session
	// running. Let it look five times.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for look := range 5 {
		if look > 0 {
			p.clock.Advance(50 * time.Millisecond)
		}
		if err := p.clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatalf("look %d: the driver is not waiting for the session: %v", look, err)
		}
		select {
		case ev := <-p.events:
			t.Fatalf("%s %s while a session runs", ev.Event, ev.Reason)
		default:
		}
	}
	if st := p.kiosk.Status(); st.Mode != firmware.ModeUpdating {
		t.Fatalf("mode %s during the install, want updating", st.Mode)
	}
	p.kiosk.mu.Lock()
	p.kiosk.session = ""
	p.kiosk.mu.Unlock()
	p.clock.Advance(50 * time.Millisecond)
	p.await(t, "committed:2")
	if st := p.kiosk.Status(); st.Mode != firmware.ModeServing {
		t.Fatalf("mode %s after the update, want serving", st.Mode)
	}
}

// TestUpdateFloorSurvivesTampering: the running palmd's signed release
// header (version 3) is a floor that no state file lowers: an older bundle
// is refused on a fresh kiosk, and again after the slot state was deleted
// or rewritten (which palmd reports).
func TestUpdateFloorSurvivesTampering(t *testing.T) {
	e := newUpdateEnv(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	x, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var h bytes.Buffer
	if _, err := secureboot.SignRelease(&h, e.priv, secureboot.Manifest{Product: "palmkiosk", Version: 3, Created: time.Unix(1_700_000_000, 0)}, x); err != nil {
		t.Fatal(err)
	}
	e.release = filepath.Join(t.TempDir(), "release.sig")
	if err := os.WriteFile(e.release, h.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(e.dir, slotStateFile)
	for _, tt := range []struct {
		name   string
		tamper func() error
	}{
		{"factory-fresh", func() error { return nil }},
		{"state deleted", func() error { return os.Remove(state) }},
		{"state rewritten", func() error {
			return os.WriteFile(state, []byte(`{"active":"a","min_firmware":0,"min_config":0}`), 0o600)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.tamper(); err != nil {
				t.Fatal(err)
			}
			p := e.boot(t, updateHooks{}, nil)
			defer func() { p.kill() }()
			if tt.name != "factory-fresh" {
				p.await(t, "tampered:state")
			}
			e.send(t, e.updates[2])
			if ev := p.await(t, "refused:", "installed:"); ev.Reason != "refused:rollback" {
				t.Fatalf("event %q, want refused:rollback", ev.Reason)
			}
			if st := e.check(t, p); st.MinFirmware < 3 {
				t.Fatalf("status %+v: the minimum is below the release floor 3", st)
			}
			if tt.name == "factory-fresh" { // leave a state behind to tamper with
				e.send(t, e.updates[3])
				p.await(t, "committed:3")
			}
		})
	}
}
