package console

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/palmd/palmd/drivers/cardreader/magstripe/magstripetest"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
)

// The secrets a leaky part might hand the console: none may come out.
const (
	testPAN   = "4539578763621486"
	testPhone = "5550100200"
	frameByte = 0xA7 // every pixel of the fake camera's frames
)

// fakeKiosk is the kiosk as the console sees it.
type fakeKiosk struct {
	mu  sync.Mutex
	st  firmware.Status
	mm  int
	bus *bus.Bus
}

func (k *fakeKiosk) Status() firmware.Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.st
}

func (k *fakeKiosk) DistanceMM() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.mm
}

func (k *fakeKiosk) Maintenance(on bool) {
	k.mu.Lock()
	k.st.Mode = firmware.ModeServing
	if on {
		k.st.Mode = firmware.ModeMaintenance
	}
	m := k.st.Mode
	k.mu.Unlock()
	k.bus.Publish(bus.Event{Event: bus.Mode, Mode: string(m)})
}

// fakeCamera returns frames of frameByte, brightened by each lit bank
// that works.
type fakeCamera struct {
	light *fakeLight
}

func (c *fakeCamera) Bounds() image.Rectangle { return image.Rect(0, 0, 64, 48) }
func (c *fakeCamera) Halt() error             { return nil }
func (c *fakeCamera) Capture(_ context.Context, dst *image.Gray) error {
	v := byte(frameByte)
	c.light.mu.Lock()
	lit := c.light.banks &^ c.light.dead
	c.light.mu.Unlock()
	if lit&light.BankLeft != 0 {
		v += 10
	}
	if lit&light.BankRight != 0 {
		v += 10
	}
	for i := range dst.Pix {
		dst.Pix[i] = v
	}
	return nil
}

type fakeLight struct {
	mu          sync.Mutex
	banks, dead light.Banks
}

func (l *fakeLight) Set(on bool) error {
	if on {
		return l.SetBanks(light.BankBoth)
	}
	return l.SetBanks(0)
}
func (l *fakeLight) SetBanks(b light.Banks) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.banks = b
	return nil
}
func (l *fakeLight) Halt() error { return l.Set(false) }

type fakeGate struct{ opens int }

func (g *fakeGate) Open(context.Context) error { g.opens++; return nil }
func (g *fakeGate) Halt() error                { return nil }

// fakeSim logs what it is given, as a careless simulator would: the
// console's log ring must redact it.
type fakeSim struct {
	log *slog.Logger
	bus *bus.Bus
}

func (s fakeSim) Stimulate(_ context.Context, step []byte, check bool) error {
	s.log.Info("stimulus", "step", string(step))
	if !check && bytes.Contains(step, []byte("insert_card")) {
		s.bus.Publish(bus.Event{Event: bus.Dropped, Part: firmware.PartCards})
	}
	return nil
}

// rig is a console served on the slave end of a pseudo-terminal; the test
// is the technician at the master end.
type rig struct {
	t       *testing.T
	clock   *clockwork.FakeClock
	master  *os.File
	kiosk   *fakeKiosk
	bus     *bus.Bus
	light   *fakeLight
	gate    *fakeGate
	audit   *bytes.Buffer
	auditMu sync.Mutex
	tech    ed25519.PrivateKey
	fact    ed25519.PrivateKey

	srv  *Server
	done chan error // Serve's return

	mu   sync.Mutex
	out  []byte // every byte the console sent
	seen int    // how far expect has read
	more chan struct{}
}

// openPTY opens a pseudo-terminal: the master end (non-blocking, so that
// closing it, the cable pulled, ends a read in progress) and the slave in
// raw mode, as a UART is.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, slavePath := magstripetest.OpenPTY(t)
	fd, err := unix.Dup(int(m.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if slave, err = os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

func newRig(t *testing.T, opts ...func(*Options)) *rig {
	t.Helper()
	master, slave := openPTY(t)
	r := &rig{t: t, clock: clockwork.NewFakeClock(), master: master, bus: &bus.Bus{}, light: &fakeLight{},
		gate: &fakeGate{}, audit: &bytes.Buffer{}, more: make(chan struct{}, 1)}
	r.kiosk = &fakeKiosk{bus: r.bus, st: firmware.Status{Mode: firmware.ModeServing,
		Parts: map[string]bool{firmware.PartCloud: true}, Counters: map[string]int{"outcome_approved": 2, "sessions": 3}}}
	techPub, tech, _ := ed25519.GenerateKey(nil)
	factPub, fact, _ := ed25519.GenerateKey(nil)
	r.tech, r.fact = tech, fact
	ring := NewRing(100)
	auditLog := slog.New(slog.NewMultiHandler(ring.Handler(slog.LevelDebug),
		slog.NewTextHandler(lockedWriter{&r.auditMu, r.audit}, nil)))
	o := Options{
		DeviceID: "kiosk-test",
		Keys:     []Key{{Name: "alice", Role: RoleTechnician, Pub: techPub}, {Name: "fab", Role: RoleFactory, Pub: factPub}},
		Kiosk:    r.kiosk,
		Bus:      r.bus,
		Devices:  firmware.Devices{Camera: &fakeCamera{light: r.light}, Light: r.light, Gate: r.gate},
		Versions: map[string]string{"palmd": "test"},
		Sim:      fakeSim{log: slog.New(ring.Handler(slog.LevelInfo)), bus: r.bus},
		Logs:     ring,
		Audit:    auditLog,
		Clock:    r.clock,
		Idle:     5 * time.Minute,
		Listen:   10 * time.Second,
		Missing:  func() []string { return []string{"uplink.creds"} },
	}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	r.serve(master, slave)
	return r
}

// serve serves the console on slave and reads master until it fails.
func (r *rig) serve(master, slave *os.File) {
	t := r.t
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	r.done = done
	go func() { done <- r.srv.Serve(ctx, slave) }()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			r.mu.Lock()
			r.out = append(r.out, buf[:n]...)
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		default: // ended earlier: the cable was pulled
		}
		slave.Close()
		r.checkPrivacy()
	})
}

// auditLog is what the audit log holds so far.
func (r *rig) auditLog() string {
	r.auditMu.Lock()
	defer r.auditMu.Unlock()
	return r.audit.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// send types a line.
func (r *rig) send(line string) {
	r.t.Helper()
	if _, err := r.master.Write([]byte(line + "\r")); err != nil {
		r.t.Fatal(err)
	}
}

// expect waits until the console has sent want (after what earlier
// expects consumed) and returns what it sent up to and including it.
func (r *rig) expect(want string) string {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		rest := string(r.out[r.seen:])
		if i := strings.Index(rest, want); i >= 0 {
			r.seen += i + len(want)
			r.mu.Unlock()
			return rest[:i+len(want)]
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			r.t.Fatalf("console never sent %q; it sent %q (all: %q)", want, rest, r.out)
		}
	}
}

// login runs the challenge-response with key and returns the answer line.
func (r *rig) login(name string, key ed25519.PrivateKey) string {
	r.t.Helper()
	r.send("login " + name)
	r.expect("challenge ")
	line := r.expect(" device kiosk-test\r\n")
	challenge, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(line, " device kiosk-test\r\n"))
	if err != nil {
		r.t.Fatalf("challenge %q: %v", line, err)
	}
	sig := ed25519.Sign(key, SignedMessage("kiosk-test", challenge))
	r.send("response " + base64.StdEncoding.EncodeToString(sig))
	return r.expectLine("logged in", "error:")
}

// expectLine waits for a line that starts with one of prefixes (after the
// echo, which the terminal wraps) and returns it.
func (r *rig) expectLine(prefixes ...string) string {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		rest := string(r.out[r.seen:])
		best := -1
		for _, p := range prefixes {
			if i := strings.Index(rest, p); i >= 0 && (best < 0 || i < best) {
				best = i
			}
		}
		if best >= 0 {
			if end := strings.Index(rest[best:], "\n"); end >= 0 {
				r.seen += best + end + 1
				r.mu.Unlock()
				return rest[best : best+end+1]
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			r.t.Fatalf("console never sent a line starting with %q; it sent %q", prefixes, rest)
		}
	}
}

// checkPrivacy: no byte the console sent holds a card number, a phone
// number or frame data.
func (r *rig) checkPrivacy() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, secret := range []string{testPAN, testPhone} {
		if bytes.Contains(r.out, []byte(secret)) {
			r.t.Errorf("the console sent %s", secret)
		}
	}
	if bytes.IndexByte(r.out, frameByte) >= 0 {
		r.t.Error("the console sent a frame byte")
	}
	if a := r.auditLog(); strings.Contains(a, testPAN) || strings.Contains(a, testPhone) {
		t := r.t
		t.Error("the audit log holds a card or phone number")
	}
}

func TestRefusedBeforeLogin(t *testing.T) {
	r := newRig(t)
	for _, cmd := range []string{"status", "logs", "maintenance on", "test card", "selftest", "reboot", "provision", "sim {}"} {
		r.send(cmd)
		name := strings.Fields(cmd)[0]
		r.expect("error: " + name + ": log in first")
	}
	r.send("help")
	r.expect("status")
	r.send("bogus")
	r.expect("error: bogus: unknown command")
	if r.kiosk.Status().Mode != firmware.ModeServing {
		t.Error("a command before login changed the mode")
	}
	if a := r.auditLog(); !strings.Contains(a, "not logged in") {
		t.Errorf("refusals not audited: %s", a)
	}
}

func TestLogin(t *testing.T) {
	r := newRig(t)
	_, stranger, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		want string
	}{
		{"alice", stranger, "error: response: login refused"},
		{"mallory", stranger, "error: response: login refused"},
		{"fab", r.tech, "error: response: login refused"}, // another holder's key
		{"alice", r.tech, "logged in as alice (technician)"},
	}
	for _, tt := range tests {
		if got := r.login(tt.name, tt.key); !strings.Contains(got, tt.want) {
			t.Errorf("login %s: %q, want %q", tt.name, got, tt.want)
		}
	}
	r.send("status")
	r.expect("mode      serving")
	r.send("response AAAA")
	r.expect("error: response: no challenge")
	if a := r.auditLog(); !strings.Contains(a, "console login failed") || !strings.Contains(a, "user=alice role=technician") {
		t.Errorf("audit log: %s", a)
	}
}

func TestRepeatedFailuresSlowed(t *testing.T) {
	r := newRig(t)
	_, stranger, _ := ed25519.GenerateKey(nil)
	for range maxFailures {
		if got := r.login("alice", stranger); !strings.Contains(got, "login refused") {
			t.Fatalf("wrong key: %q", got)
		}
	}
	// Locked: even the right key is refused, for 30 s.
	r.send("login alice")
	r.expect("error: login: too many failed logins: try again in 30s")
	r.clock.Advance(29 * time.Second)
	r.send("login alice")
	r.expect("try again in 1s")
	r.clock.Advance(time.Second)
	// One more failure doubles the delay.
	if got := r.login("alice", stranger); !strings.Contains(got, "login refused") {
		t.Fatalf("wrong key: %q", got)
	}
	r.send("login alice")
	r.expect("try again in 1m0s")
	r.clock.Advance(time.Minute)
	if got := r.login("alice", r.tech); !strings.Contains(got, "logged in as alice") {
		t.Fatalf("right key after the delay: %q", got)
	}
	// A success resets the count: one failure is not slowed.
	r.send("quit")
	r.expect("logged out")
	r.login("alice", stranger)
	if got := r.login("alice", r.tech); !strings.Contains(got, "logged in") {
		t.Fatalf("after one failure: %q", got)
	}
}

func TestRoleRefusedFactoryCommand(t *testing.T) {
	r := newRig(t)
	r.login("alice", r.tech)
	r.send("provision")
	r.expect("error: provision: needs the factory role; alice has technician")
	r.send("quit")
	r.login("fab", r.fact)
	r.send("provision --json")
	if got := r.expect("}"); !strings.Contains(got, `{"provisioned":false,"missing":["uplink.creds"]}`) {
		t.Errorf("provision as factory: %q", got)
	}
}

// TestKeysReplaced: a new signed config replaces the keys (SetKeys). A
// session whose key stays goes on; one whose key was removed or replaced
// ends at once, and that key cannot log in again; the new key can.
func TestKeysReplaced(t *testing.T) {
	r := newRig(t)
	alice, fab := r.srv.o.Keys[0], r.srv.o.Keys[1]
	if got := r.login("alice", r.tech); !strings.Contains(got, "logged in as alice") {
		t.Fatalf("login: %q", got)
	}
	r.srv.SetKeys([]Key{fab, alice}) // the same keys, reordered
	r.send("status")
	if got := r.expect("mode      serving"); strings.Contains(got, "session ended") {
		t.Errorf("a session whose key stayed ended: %q", got)
	}
	newPub, newPriv, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		keys []Key
	}{
		{"removed", []Key{fab}},
		{"replaced", []Key{fab, {Name: "alice", Role: RoleTechnician, Pub: newPub}}},
		{"role changed", []Key{fab, {Name: "alice", Role: RoleFactory, Pub: alice.Pub}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.srv.SetKeys([]Key{alice, fab})
			if got := r.login("alice", r.tech); !strings.Contains(got, "logged in as alice") {
				t.Fatalf("login: %q", got)
			}
			r.srv.SetKeys(tt.keys) // no line typed: the session ends by itself
			r.expect("error: session ended: your key was removed from the config")
			r.send("status")
			r.expect("error: status: log in first")
			if got := r.login("alice", r.tech); strings.Contains(got, "logged in as alice (technician)") {
				t.Errorf("the old key logged in again: %q", got)
			}
		})
	}
	// The last case left alice logged in with the factory role: that
	// session ends too, before she logs in with her new key.
	r.srv.SetKeys([]Key{fab, {Name: "alice", Role: RoleTechnician, Pub: newPub}})
	r.expect("error: session ended: your key was removed from the config")
	if got := r.login("alice", newPriv); !strings.Contains(got, "logged in as alice (technician)") {
		t.Errorf("the new key: %q", got)
	}
	if a := r.auditLog(); !strings.Contains(a, "reason=key_removed") {
		t.Errorf("audit log has no key_removed logout:\n%s", a)
	}
}

func TestIdleLogout(t *testing.T) {
	r := newRig(t)
	r.login("alice", r.tech)
	r.clock.BlockUntilContext(context.Background(), 1) // the idle timer
	r.clock.Advance(5 * time.Minute)
	r.expect("session ended: idle")
	r.send("status")
	r.expect("error: status: log in first")
}

func TestStatusJSON(t *testing.T) {
	r := newRig(t, func(o *Options) {
		o.Cloud = func() Link { return Link{Connected: true, RTTMS: 1.5} }
		o.Slot = func() string { return "B" }
	})
	r.login("alice", r.tech)
	r.send("status | json")
	r.expect("json\r\n")
	line := r.expect("}\r\n")
	var st map[string]any
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		t.Fatalf("status | json: %q: %v", line, err)
	}
	if nats := st["nats"].(map[string]any); nats["connected"] != true || nats["rtt_ms"] != 1.5 {
		t.Errorf("nats: %v, want connected with a round trip of 1.5 ms", nats)
	}
	if st["slot"] != "B" {
		t.Errorf("slot: %v, want B", st["slot"])
	}
	for _, field := range []string{"device", "versions", "slot", "uptime", "mode", "nats", "decisions", "counters", "parts"} {
		if _, ok := st[field]; !ok {
			t.Errorf("status has no %s: %s", field, line)
		}
	}
	parts := st["parts"].(map[string]any)
	if len(parts) != 8 || parts["cloud"] != "up" || parts["camera"] != "no_failure_seen" {
		t.Errorf("parts: %v, want all 8, the cloud up", parts)
	}
	if d := st["decisions"].(map[string]any)["by_outcome"].(map[string]any); d["approved"] != 2.0 {
		t.Errorf("decisions by outcome: %v", d)
	}
}

func TestPartTests(t *testing.T) {
	r := newRig(t)
	r.login("alice", r.tech)
	r.send("test camera")
	r.expect("error: test: the kiosk is serving: run maintenance on first")
	r.send("maintenance on")
	r.expect("mode maintenance")
	tests := []struct {
		cmd, want string
		dead      light.Banks
		mm        int
	}{
		{"test camera", "camera    PASS  64x48, unlit mean 167, left +10, right +10, both +20", 0, 0},
		{"test leds", "leds      PASS  left +10, right +10, both +20", 0, 0},
		{"test leds", "leds      FAIL  left +0, right +10, both +10: bank(s) left do not light (want at least +4)", light.BankLeft, 0},
		{"test gate", "gate      PASS  relay pulsed", 0, 0},
		{"test presence", "presence  PASS  nothing in range", 0, 0},
		{"test presence", "presence  PASS  something at 142 mm", 0, 142},
		{"test wheel", "error: test: part \"wheel\": want one of camera, leds, gate, card, keypad, presence", 0, 0},
	}
	for _, tt := range tests {
		r.light.mu.Lock()
		r.light.dead = tt.dead
		r.light.mu.Unlock()
		r.kiosk.mu.Lock()
		r.kiosk.mm = tt.mm
		r.kiosk.mu.Unlock()
		r.send(tt.cmd)
		r.expect(tt.cmd + "\r\n")
		if got := r.expect("\n"); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.cmd, got, tt.want)
		}
	}
	r.kiosk.mu.Lock()
	r.kiosk.st.Parts = map[string]bool{firmware.PartCamera: false}
	r.kiosk.mu.Unlock()
	r.send("test camera")
	r.expect("camera    FAIL  camera is down")
	if r.gate.opens != 1 {
		t.Errorf("gate opened %d times, want 1", r.gate.opens)
	}
	// test card waits for a swipe; the kiosk reports it without its number.
	r.send("test card")
	r.clock.BlockUntilContext(context.Background(), 2) // idle and listen timers
	r.bus.Publish(bus.Event{Event: bus.CardError, Reason: "no_track_2"})
	r.expect("card      FAIL  card not read: no_track_2")
	r.send("test keypad")
	r.clock.BlockUntilContext(context.Background(), 2)
	r.clock.Advance(10 * time.Second)
	r.expect("keypad    FAIL  nothing within 10s (press a key)")
	// In maintenance the kiosk names what came: a card's last four digits,
	// a key's name.
	r.send("test card")
	r.clock.BlockUntilContext(context.Background(), 2)
	r.bus.Publish(bus.Event{Event: bus.Dropped, Part: firmware.PartCards, Reason: "card_1486"})
	r.expect("card      PASS  card •••• 1486 read, tracks ok")
	r.send("test keypad")
	r.clock.BlockUntilContext(context.Background(), 2)
	r.bus.Publish(bus.Event{Event: bus.Dropped, Part: firmware.PartKeypad, Reason: "digit_5"})
	r.expect("keypad    PASS  key digit_5")
}

// TestNothingSecretSent puts card and phone numbers where a careless part
// would (the log ring, a stimulus) in machine mode; checkPrivacy then
// finds none of them, nor a frame byte, in what the console sent.
func TestNothingSecretSent(t *testing.T) {
	r := newRig(t)
	r.login("alice", r.tech)
	r.send("machine")
	r.expect(`{"ok":true}`)
	r.send("help")
	r.expect(`{"text":"  expect {JSON}`)
	r.send(`sim {"insert_card":"` + testPAN + `"}`)
	r.expect(`{"ok":true}`)
	r.send(`sim {"type":"` + testPhone + `[enter]"}`)
	r.expect(`{"ok":true}`)
	r.send(`expect {"event":"dropped","part":"cards","timeout":"5s"} --json`)
	r.expect(`"ok":true`)
	r.send("maintenance on --json")
	r.expect(`{"mode":"maintenance"}`)
	r.send("selftest --json")
	r.expect(`"pass":true`)
	r.send("logs 100 | json")
	r.expect(`{"lines":[`)
	got := r.expect("]}")
	if !strings.Contains(got, "[redacted]") {
		t.Errorf("logs: %q: the stimuli's numbers are not shown redacted", got)
	}
	r.send("\x00\xff\x1b[A garbage")
	r.expect(`{"error":"line: byte 1 is 0x00: want printable ASCII"}`)
	r.send(strings.Repeat("x", 3000))
	r.expect(`{"error":"line: longer than 1024 bytes"}`)
	r.send("status --json")
	r.expect(`"mode":"maintenance"`)
}

// TestDroppedCable pulls the cable in the middle of a typed command: the
// session ends, and the same server serves the next cable plugged in.
func TestDroppedCable(t *testing.T) {
	r := newRig(t)
	r.login("alice", r.tech)
	if _, err := r.master.Write([]byte("maint")); err != nil {
		t.Fatal(err)
	}
	r.expect("maint")
	r.master.Close()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return when the cable was pulled")
	}
	if r.kiosk.Status().Mode != firmware.ModeServing {
		t.Error("a half-typed command ran")
	}
	master, slave := openPTY(t)
	r.mu.Lock()
	r.master, r.seen = master, len(r.out)
	r.mu.Unlock()
	r.serve(master, slave)
	r.send("status")
	r.expect("error: status: log in first") // the new cable is a new session
	if got := r.login("alice", r.tech); !strings.Contains(got, "logged in") {
		t.Fatalf("login on the new cable: %q", got)
	}
}

func TestRingKeepsTimesRedactsNumbers(t *testing.T) {
	ring := NewRing(2)
	log := slog.New(ring.Handler(slog.LevelInfo))
	log.Info("first")
	log.Info("card read", "pan", testPAN)
	log.Info("phone typed", "phone", testPhone)
	got := ring.Last(10)
	if len(got) != 2 || !strings.Contains(got[0], "pan=[redacted]") || !strings.Contains(got[1], "phone=[redacted]") {
		t.Fatalf("ring: %q", got)
	}
	if today := `time="` + time.Now().UTC().Format("2006/01/02"); !strings.Contains(got[0], today) {
		t.Errorf("ring: %q: the record's date is not kept (%s)", got[0], today)
	}
}

// TestRingPersists: with a file, the ring survives a restart, redacted,
// and the file stays bounded.
func TestRingPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.log")
	first := NewRing(4)
	if err := first.Persist(path); err != nil {
		t.Fatal(err)
	}
	log := slog.New(first.Handler(slog.LevelInfo))
	for i := range 10 {
		log.Info("line", "n", i, "pan", testPAN)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// A number written into the file behind palmd's back is redacted too.
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString("tampered phone=" + testPhone + "\n")
	fh.Close()

	second := NewRing(4)
	if err := second.Persist(path); err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	got := second.Last(0)
	if len(got) != 4 || !strings.Contains(got[2], "n=9") || got[3] != "tampered phone=[redacted]" {
		t.Errorf("after a restart: %q", got)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), testPAN) || strings.Contains(string(b), testPhone) {
		t.Errorf("the log file holds a number: %s", b)
	}
	if n := strings.Count(string(b), "\n"); n > 8 {
		t.Errorf("the log file has %d lines, want at most twice the ring's 4", n)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode: %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"card 4539578763621486 read", "card [redacted] read"},
		{"phone 555-010-0200", "phone [redacted]"},
		{"card 4539 5787 6362 1486", "card [redacted]"},
		{"time=12:00:01.123 sessions=42", "time=12:00:01.123 sessions=42"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
