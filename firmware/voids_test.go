package firmware

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/wire"
)

var queuedAt = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func refsOf(v *voids) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var refs []string
	for _, p := range v.queue {
		refs = append(refs, p.Ref)
	}
	return refs
}

// TestVoidsPersistAndReload: the queue is written on every change (0600,
// no temporary file left) and read back in order by the next palmd; a ref
// queued twice is kept once; a full queue keeps its oldest.
func TestVoidsPersistAndReload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "palmd")
	v, err := openVoids(dir, 3)
	if err != nil || v.len() != 0 {
		t.Fatalf("open a new dir: %d voids, %v", v.len(), err)
	}
	steps := []struct {
		ref  string
		kept bool
		want []string
	}{
		{"m1", true, []string{"m1"}},
		{"m2", true, []string{"m1", "m2"}},
		{"m1", true, []string{"m1", "m2"}}, // dedup
		{"m3", true, []string{"m1", "m2", "m3"}},
		{"m4", false, []string{"m1", "m2", "m3"}}, // full: the oldest kept
	}
	for _, st := range steps {
		kept, err := v.add(pendingVoid{Ref: st.ref, Session: "s-" + st.ref, Queued: queuedAt})
		if err != nil || kept != st.kept {
			t.Fatalf("add %s: kept %t, %v; want kept %t", st.ref, kept, err, st.kept)
		}
		if got := refsOf(v); !slices.Equal(got, st.want) {
			t.Fatalf("after add %s: %v, want %v", st.ref, got, st.want)
		}
	}
	path := filepath.Join(dir, VoidsFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("queue file: %v, %v; want mode 0600", fi, err)
	}
	if err := v.done("m2"); err != nil {
		t.Fatal(err)
	}
	again, err := openVoids(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := refsOf(again); !slices.Equal(got, []string{"m1", "m3"}) {
		t.Errorf("reloaded %v, want [m1 m3]", got)
	}
	if p, _ := again.head(); p.Session != "s-m1" || !p.Queued.Equal(queuedAt) {
		t.Errorf("reloaded head %+v, want session s-m1 queued at %v", p, queuedAt)
	}
	select {
	case <-again.wake:
	default:
		t.Error("a reloaded queue that holds voids is not due at once")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d files, want only %s", len(entries), VoidsFile)
	}
}

// TestVoidsInMemory: without a data directory nothing is written.
func TestVoidsInMemory(t *testing.T) {
	v, err := openVoids("", 2)
	if err != nil {
		t.Fatal(err)
	}
	if kept, err := v.add(pendingVoid{Ref: "m1", Queued: queuedAt}); !kept || err != nil {
		t.Fatalf("add: %t, %v", kept, err)
	}
	if v.path != "" || v.len() != 1 {
		t.Errorf("in-memory queue: path %q, %d voids", v.path, v.len())
	}
}

func TestParseVoids(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // refs, or
		err      string   // what the error names
	}{
		{"empty queue", `{"v":1,"voids":[]}`, nil, ""},
		{"two", `{"v":1,"voids":[{"ref":"m1","session":"ab","queued":"2026-12-03T12:00:00Z"},{"ref":"m2","session":"","queued":"2026-12-03T12:00:01Z"}]}`, []string{"m1", "m2"}, ""},
		{"not JSON", `voids`, nil, `want a JSON object {"v":1,"voids":[…]}`},
		{"empty file", ``, nil, `want a JSON object`},
		{"two objects", `{"v":1,"voids":[]}{}`, nil, "data after the JSON object"},
		{"version", `{"v":2,"voids":[]}`, nil, "v: 2: want 1"},
		{"unknown field", `{"v":1,"voids":[{"ref":"m1","queued":"2026-12-03T12:00:00Z","amount":5}]}`, nil, `unknown field "amount"`},
		{"ref missing", `{"v":1,"voids":[{"queued":"2026-12-03T12:00:00Z"}]}`, nil, "voids[0].ref: want 1 to 64 printable characters"},
		{"ref with a space", `{"v":1,"voids":[{"ref":"m 1","queued":"2026-12-03T12:00:00Z"}]}`, nil, "voids[0].ref"},
		{"ref too long", `{"v":1,"voids":[{"ref":"` + strings.Repeat("m", 65) + `","queued":"2026-12-03T12:00:00Z"}]}`, nil, "voids[0].ref"},
		{"ref twice", `{"v":1,"voids":[{"ref":"m1","queued":"2026-12-03T12:00:00Z"},{"ref":"m1","queued":"2026-12-03T12:00:00Z"}]}`, nil, `voids[1].ref: "m1" again`},
		{"session", `{"v":1,"voids":[{"ref":"m1","session":"a\nb","queued":"2026-12-03T12:00:00Z"}]}`, nil, "voids[0].session"},
		{"queued missing", `{"v":1,"voids":[{"ref":"m1"}]}`, nil, "voids[0].queued: missing"},
		{"queued not a time", `{"v":1,"voids":[{"ref":"m1","queued":"yesterday"}]}`, nil, "parsing time"},
		{"too many", `{"v":1,"voids":[{"ref":"a","queued":"2026-12-03T12:00:00Z"},{"ref":"b","queued":"2026-12-03T12:00:00Z"},{"ref":"c","queued":"2026-12-03T12:00:00Z"}]}`, nil, "voids: 3 entries: want at most 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVoids([]byte(tt.in), 2)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, p := range got {
				refs = append(refs, p.Ref)
			}
			if !slices.Equal(refs, tt.want) {
				t.Errorf("refs %v, want %v", refs, tt.want)
			}
		})
	}
}

// TestMalformedVoidsFileIsSetAside: a queue file that does not parse is
// named in the error with its field, kept (moved beside it, its bytes
// unchanged) rather than dropped or overwritten, and the queue starts
// empty and is written anew.
func TestMalformedVoidsFileIsSetAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, VoidsFile)
	bad := []byte(`{"v":1,"voids":[{"ref":"m1"}]}`)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := openVoids(dir, MaxVoids)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "voids[0].queued") {
		t.Fatalf("error %v, want one naming %s and voids[0].queued", err, path)
	}
	aside, _ := filepath.Glob(path + ".bad*")
	if len(aside) != 1 || !strings.Contains(err.Error(), aside[0]) {
		t.Fatalf("set aside as %v; the error %q does not say where", aside, err)
	}
	if b, _ := os.ReadFile(aside[0]); string(b) != string(bad) {
		t.Errorf("the file set aside holds %q, want the original %q", b, bad)
	}
	if v == nil || v.len() != 0 || v.path != path {
		t.Fatalf("queue after a malformed file: %+v", v)
	}
	if _, err := v.add(pendingVoid{Ref: "m2", Queued: queuedAt}); err != nil {
		t.Fatal(err)
	}
	if again, err := openVoids(dir, MaxVoids); err != nil || !slices.Equal(refsOf(again), []string{"m2"}) {
		t.Errorf("the new queue reloaded: %v, %v", refsOf(again), err)
	}
}

// TestMalformedVoidsFileAtStart: the kiosk still starts, logs nothing of
// the file's content and reports the queue (health voids_unreadable).
func TestMalformedVoidsFileAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, VoidsFile), []byte(`{"v":9}`), 0o600); err != nil {
			t.Fatal(err)
		}
		r := newRigWith(t, rigOptions{outcome: wire.Approved, dataDir: dir})
		if ev := r.await(t, bus.Health, ""); ev.Part != PartVoids || ev.Reason != "voids_unreadable" {
			t.Errorf("health event %+v, want voids voids_unreadable", ev)
		}
		r.await(t, bus.Screen, "idle")
	})
}

func TestRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second,
		6: 160 * time.Second, 7: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := retryDelay(n); got != want {
			t.Errorf("retryDelay(%d) = %v, want %v", n, got, want)
		}
	}
}

// FuzzParseVoids: whatever the file holds, the parser returns a queue or
// an error, never panics; a queue it returns is valid and reads back the
// same once written.
func FuzzParseVoids(f *testing.F) {
	f.Add([]byte(`{"v":1,"voids":[]}`))
	f.Add([]byte(`{"v":1,"voids":[{"ref":"m1","session":"0f","queued":"2026-12-03T12:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseVoids(b, 8)
		if err != nil {
			return
		}
		if len(got) > 8 {
			t.Fatalf("%d voids past the bound", len(got))
		}
		out, err := json.Marshal(voidsFile{V: voidsVersion, Voids: got})
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseVoids(out, 8)
		if err != nil || len(again) != len(got) {
			t.Fatalf("written and read back: %d voids, %v; want %d", len(again), err, len(got))
		}
		for i := range got {
			if again[i].Ref != got[i].Ref || !again[i].Queued.Equal(got[i].Queued) {
				t.Fatalf("void %d read back as %+v, want %+v", i, again[i], got[i])
			}
		}
	})
}

// lostPayment plays a payment whose request reached the cloud, which is
// then lost: the POS is answered cancelled (cloud_down) and the void,
// which fails while the cloud is gone, is queued.
func lostPayment(t *testing.T, r *rig, ref string) {
	t.Helper()
	cancelledCloudDown(t, r, ref)
	if ev := r.await(t, bus.VoidQueued, ""); ev.Flow != "pay" || ev.Session == "" {
		t.Errorf("void_queued event %+v", ev)
	}
}

// cancelledCloudDown plays a payment whose request reached the cloud,
// which is then lost: the POS is answered cancelled (cloud_down).
func cancelledCloudDown(t *testing.T, r *rig, ref string) {
	t.Helper()
	c := r.posLink(t, pos.NewServer(r.kiosk.POS(), nil))
	if err := c.Send(payReq(ref, 1250)); err != nil {
		t.Fatal(err)
	}
	r.await(t, bus.Screen, "pay")
	r.hover(t, sim.Person{Name: "alice"})
	<-r.cloud.requested
	r.kiosk.CloudHealth(false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := c.Await(ctx, ref)
	if err != nil || a.Status != pos.Cancelled || a.Reason != "cloud_down" {
		t.Fatalf("answer %+v, %v; want cancelled cloud_down", a, err)
	}
}

// lostCloud is a cloud that was lost: a request waits until its context
// ends (each is told on requested) and every void fails.
func lostCloud(c *fakeCloud) {
	c.requested, c.block, c.voidErr = make(chan struct{}, 4), true, errors.New("uplink: not connected")
}

// TestVoidQueueFull: a void past the bound is not kept, and the kiosk
// says so (a health event, an error log); the voids queued before it are
// kept.
func TestVoidQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		r := newRigWith(t, rigOptions{outcome: wire.Approved, log: slog.New(slog.NewTextHandler(&logs, nil)),
			cloud: lostCloud})
		r.await(t, bus.Screen, "idle")
		r.kiosk.voids.mu.Lock()
		r.kiosk.voids.max = 1
		r.kiosk.voids.mu.Unlock()
		if kept, err := r.kiosk.voids.add(pendingVoid{Ref: "m0", Queued: r.clock.Now()}); !kept || err != nil {
			t.Fatal(kept, err)
		}
		cancelledCloudDown(t, r, "m1")
		ev := r.await(t, bus.Health, "")
		if ev.Part == PartCloud { // cloud_down came first
			ev = r.await(t, bus.Health, "")
		}
		if ev.Part != PartVoids || ev.Reason != "voids_full" {
			t.Errorf("health event %+v, want voids voids_full", ev)
		}
		if got := refsOf(r.kiosk.voids); !slices.Equal(got, []string{"m0"}) {
			t.Errorf("queue %v, want the oldest [m0] kept", got)
		}
		if s := logs.String(); !strings.Contains(s, "level=ERROR msg=\"void queue full") {
			t.Errorf("no error logged for the void not kept:\n%s", s)
		}
	})
}

// TestVoidRetriedUntilApproved: a void that fails is retried after 5 s,
// 10 s, 20 s on the kiosk's clock, at once when the cloud is back, and
// never again once approved; voids queued meanwhile are sent oldest
// first, each once.
func TestVoidRetriedUntilApproved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		timers := &timerLog{}
		r := newRigWith(t, rigOptions{outcome: wire.Approved, timers: timers, cloud: lostCloud})
		r.await(t, bus.Screen, "idle")
		lostPayment(t, r, "m1")
		tries := func() int {
			r.cloud.mu.Lock()
			defer r.cloud.mu.Unlock()
			return len(r.cloud.voidAt)
		}
		// The session's try and the queue's at once, then one after each
		// retry timer. The clock moves only once the kiosk has set the timer,
		// and by exactly its delay, so the gaps are exact (the hand is taken
		// away after: reading the presence sensor moves the clock too).
		eventually(t, func() bool { return tries() >= 2 })
		const retrier = "github.com/palmd/palmd/firmware.(*Kiosk).runVoids"
		delays := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second}
		for i, want := range delays {
			eventually(t, func() bool { return len(timers.by(retrier)) > i })
			if got := timers.by(retrier)[i]; got != want {
				t.Fatalf("retry %d set for %v after the failure, want %v", i+1, got, want)
			}
			r.advance(want)
			eventually(t, func() bool { return tries() >= i+3 })
		}
		r.cloud.mu.Lock()
		at := slices.Clone(r.cloud.voidAt)
		r.cloud.mu.Unlock()
		for i, want := range delays {
			if gap := at[i+2].Sub(at[i+1]); gap != want {
				t.Errorf("retry %d came %v after the one before, want %v", i+1, gap, want)
			}
		}
		r.withdraw(t)
		for _, ref := range []string{"m2", "m3"} {
			if kept, err := r.kiosk.voids.add(pendingVoid{Ref: ref, Queued: r.clock.Now()}); !kept || err != nil {
				t.Fatal(kept, err)
			}
		}
		eventually(t, func() bool { return r.kiosk.Status().Counters["voids_pending"] == 3 })
		r.cloud.mu.Lock()
		r.cloud.voidErr = nil
		r.cloud.mu.Unlock()
		r.kiosk.CloudHealth(true)
		for range 3 {
			r.await(t, bus.Voided, "")
		}
		eventually(t, func() bool { return r.kiosk.Status().Counters["voids_pending"] == 0 })
		n := tries()
		r.kiosk.CloudHealth(false)
		r.kiosk.CloudHealth(true)
		r.advance(voidRetryMax)
		eventually(t, func() bool { return r.kiosk.Status().Mode == ModeServing })
		if got := tries(); got != n {
			t.Errorf("%d more voids after every one was approved", got-n)
		}
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		if !slices.Equal(r.cloud.voids, []string{"m1", "m2", "m3"}) {
			t.Errorf("voids approved %v, want [m1 m2 m3], each once, oldest first", r.cloud.voids)
		}
	})
}

// TestVoidsInMemoryLostAtExit: without a data directory, voids that still
// wait when palmd stops are lost, and the log says so.
func TestVoidsInMemoryLostAtExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		r := newRigWith(t, rigOptions{outcome: wire.Approved, log: slog.New(slog.NewTextHandler(&logs, nil)),
			cloud: lostCloud})
		r.await(t, bus.Screen, "idle")
		lostPayment(t, r, "m1")
		r.stop(t)
		if s := logs.String(); !strings.Contains(s, "voids lost with palmd's exit (no update.dir)") || !strings.Contains(s, "voids=1") {
			t.Errorf("log at exit does not say a void was lost:\n%s", s)
		}
	})
}

// syncBuffer is a log destination several goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestVoidSurvivesARestart: a void queued before palmd stops is sent by
// the next palmd on the same data directory, at start.
func TestVoidSurvivesARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		r := newRigWith(t, rigOptions{outcome: wire.Approved, dataDir: dir, cloud: lostCloud})
		r.await(t, bus.Screen, "idle")
		lostPayment(t, r, "m1")
		r.stop(t)
		b, err := os.ReadFile(filepath.Join(dir, VoidsFile))
		if err != nil || !strings.Contains(string(b), `"ref":"m1"`) {
			t.Fatalf("queue file after the stop: %s, %v", b, err)
		}
		next := newRigWith(t, rigOptions{outcome: wire.Approved, dataDir: dir})
		if ev := next.await(t, bus.Voided, ""); ev.Flow != "pay" || ev.Reason != "voided" {
			t.Errorf("voided event %+v", ev)
		}
		eventually(t, func() bool { return next.kiosk.Status().Counters["voids_pending"] == 0 })
		next.cloud.mu.Lock()
		defer next.cloud.mu.Unlock()
		if !slices.Equal(next.cloud.voids, []string{"m1"}) {
			t.Errorf("voids after the restart %v, want [m1]", next.cloud.voids)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, VoidsFile)); strings.Contains(string(b), "m1") {
			t.Errorf("queue file still holds the approved void: %s", b)
		}
	})
}

// cutNetwork is the network between the kiosk and its uplink. Cut,
// requests fail at once; cutAfterPay cuts it once the next payment has
// reached the cloud: its answer never comes back, and the kiosk hears
// that the cloud is gone, as from the uplink.
type cutNetwork struct {
	Cloud
	health func(up bool)

	mu          sync.Mutex
	cut         bool
	cutAfterPay bool
	voids       int // voids that reached the cloud
}

func (n *cutNetwork) Do(ctx context.Context, req wire.Request) (wire.Decision, error) {
	n.mu.Lock()
	after := n.cutAfterPay && req.Flow == wire.FlowPay && !n.cut
	cut := n.cut
	if after {
		n.cut, n.cutAfterPay = true, false
	}
	if !cut && req.Flow == wire.FlowVoid {
		n.voids++
	}
	n.mu.Unlock()
	if cut {
		return wire.Decision{}, errors.New("test: the network is cut")
	}
	dec, err := n.Cloud.Do(ctx, req)
	if after {
		n.health(false)
		<-ctx.Done()
		return wire.Decision{}, ctx.Err()
	}
	return dec, err
}

func (n *cutNetwork) restore() {
	n.mu.Lock()
	n.cut = false
	n.mu.Unlock()
	n.health(true)
}

func (n *cutNetwork) voided() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.voids
}

// TestLostPaymentVoidedOverNATS: against the embedded NATS server and the
// reference cloud, Alice's payment reaches the cloud, which charges it;
// the network is cut before the answer comes back. The point of sale is
// answered cancelled (cloud_down); once the network is back the charge is
// voided in the cloud's ledger, by one void, and a second loss and return
// of the cloud voids nothing more.
func TestLostPaymentVoidedOverNATS(t *testing.T) {
	devtest.Bubble(t, func(t *testing.T) {
		d, c := startCloud(t)
		net := &cutNetwork{Cloud: c}
		r := newRigWith(t, rigOptions{uplink: net, palm: d.palm, card: d.card, dataDir: t.TempDir()})
		net.health = r.kiosk.CloudHealth
		r.enrolAlice(t)

		net.mu.Lock()
		net.cutAfterPay = true
		net.mu.Unlock()
		pc := r.posLink(t, pos.NewServer(r.kiosk.POS(), nil))
		if err := pc.Send(payReq("m1", 1250)); err != nil {
			t.Fatal(err)
		}
		r.await(t, bus.Screen, "pay")
		r.hover(t, sim.Person{Name: "alice"})
		actx, acancel := context.WithTimeout(context.Background(), time.Minute)
		defer acancel()
		a, err := pc.Await(actx, "m1")
		if err != nil || a.Status != pos.Cancelled || a.Reason != "cloud_down" {
			t.Fatalf("POS answer %+v, %v; want cancelled cloud_down", a, err)
		}
		r.await(t, bus.VoidQueued, "")
		if ps := d.Cloud.Payments(); len(ps) != 1 || ps[0].Ref != "m1" || ps[0].Voided {
			t.Fatalf("ledger while the network is cut: %+v, want m1 charged (the answer was lost)", ps)
		}
		r.withdraw(t)

		net.restore()
		if ev := r.await(t, bus.Voided, ""); ev.Reason != "voided" || ev.Flow != "pay" {
			t.Errorf("voided event %+v, want reason voided (a charge was taken back)", ev)
		}
		eventually(t, func() bool { return r.kiosk.Status().Counters["voids_pending"] == 0 })
		if ps := d.Cloud.Payments(); len(ps) != 1 || ps[0].Ref != "m1" || !ps[0].Voided {
			t.Fatalf("ledger once the network is back: %+v, want m1 voided", ps)
		}

		r.kiosk.CloudHealth(false)
		net.restore()
		r.advance(voidRetryMax)
		eventually(t, func() bool { return r.kiosk.Status().Mode == ModeServing })
		r.awaitIdle(t)
		if n := net.voided(); n != 1 {
			t.Errorf("%d voids reached the cloud, want 1", n)
		}
		if ps := d.Cloud.Payments(); len(ps) != 1 || !ps[0].Voided {
			t.Errorf("ledger at the end: %+v", ps)
		}
	})
}
