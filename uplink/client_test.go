package uplink_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/wire"
	"path/filepath"
)

const device = "kiosk-1"

// syncBuffer is a log sink safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// rig is a real in-process NATS server with a scripted cloud on it.
type rig struct {
	auth    *dev.Authority
	srv     *server.Server
	pipe    *pipe // leads to srv; nil: srv listens on a loopback port
	cloud   *nats.Conn
	signPub ed25519.PublicKey
	sign    ed25519.PrivateKey
	events  chan wire.Event
	logs    *syncBuffer

	mu    sync.Mutex
	reply func(wire.Request) []byte
}

// newRig starts the rig on no port: the cloud and every kiosk connect
// through in-memory pipes (r.connect, r.dial), so that the test runs in a
// bubble (devtest.Bubble) and never waits on the machine's clock. Call it
// in the bubble: the rig's certificates must be made on its clock.
func newRig(t *testing.T) *rig {
	t.Helper()
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	r := &rig{auth: auth, pipe: &pipe{}, signPub: pub, sign: priv, events: make(chan wire.Event, 16), logs: &syncBuffer{}}
	r.serve(t)
	creds, err := auth.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	r.cloud, err = r.connect(nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS),
		nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.cloud.Close)
	if _, err := r.cloud.Subscribe(wire.AllRequests, func(m *nats.Msg) {
		req, err := wire.DecodeRequest(m.Data)
		if err != nil {
			t.Errorf("cloud got a bad request: %v", err)
			return
		}
		r.mu.Lock()
		f := r.reply
		r.mu.Unlock()
		m.Respond(f(req))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.cloud.Subscribe(wire.AllTelemetry, func(m *nats.Msg) {
		if e, err := wire.DecodeEvent(m.Data); err == nil {
			r.events <- e
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.cloud.Flush(); err != nil {
		t.Fatal(err)
	}
	r.setReply(func(req wire.Request) []byte { return r.decision(t, req.ID, device, 0, time.Minute) })
	return r
}

// serve starts a new server for the rig, on no port, with JetStream (in a
// bubble, memory streams only: see devtest), and points the pipe at it.
func (r *rig) serve(t *testing.T) {
	t.Helper()
	opts, err := r.auth.ServerOptions(server.DEFAULT_PORT) // ClientURL must still parse
	if err != nil {
		t.Fatal(err)
	}
	opts.DontListen = true
	opts.JetStream, opts.StoreDir, opts.JetStreamMaxMemory = true, t.TempDir(), 256<<20
	srv, err := dev.StartServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	r.srv = srv
	r.pipe.set(srv)
}

// connect connects to the rig's server through the pipe, as whoever the
// options' credentials name.
func (r *rig) connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append(opts, nats.InProcessServer(r.pipe))
	return nats.Connect(r.srv.ClientURL(), opts...)
}

// pipe connects to the rig's current server through an in-memory pipe.
// A connection keeps the one nats.InProcessConnProvider it was given for
// every reconnection; this one leads to the server that replaced a
// stopped one, as a URL leads to a server restarted on its port.
type pipe struct {
	mu  sync.Mutex
	srv *server.Server
}

func (p *pipe) set(srv *server.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.srv = srv
}

// InProcessConn implements nats.InProcessConnProvider; it fails while the
// server is stopped, and the connection retries.
func (p *pipe) InProcessConn() (net.Conn, error) {
	p.mu.Lock()
	srv := p.srv
	p.mu.Unlock()
	return srv.InProcessConn()
}

func (r *rig) setReply(f func(wire.Request) []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reply = f
}

// statement signs st for device, issued at now+issued, valid for ttl.
func (r *rig) signed(t *testing.T, key ed25519.PrivateKey, dev string, st wire.Statement, issued, ttl time.Duration) []byte {
	now := time.Now().Add(issued)
	st.Device, st.Nonce, st.IssuedAt, st.Expires = dev, wire.NewNonce(), now, now.Add(ttl)
	b, err := wire.Sign(key, st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *rig) decision(t *testing.T, id, dev string, issued, ttl time.Duration) []byte {
	return r.signed(t, r.sign, dev, wire.Statement{Kind: wire.KindDecision,
		Decision: &wire.Decision{Request: id, Outcome: wire.Approved, Subject: "sub-1"}}, issued, ttl)
}

func (r *rig) dial(t *testing.T, opts ...uplink.Option) *uplink.Client {
	t.Helper()
	creds, err := r.auth.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(append(creds.Options(), uplink.Logger(slog.New(slog.NewTextHandler(r.logs, nil)))), opts...)
	up := make(chan struct{}, 1)
	if r.pipe != nil {
		opts = append(opts, uplink.InProcess(r.pipe))
	} else {
		// Dial does not wait for the network: hear when it is up.
		opts = append(opts, uplink.OnHealth(func(h uplink.Health) {
			if h.Connected {
				select {
				case up <- struct{}{}:
				default:
				}
			}
		}))
	}
	c, err := uplink.Dial(r.srv.ClientURL(), device, r.signPub, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if r.pipe != nil {
		settled(t, "connection", c.Connected)
		return c
	}
	select {
	case <-up:
	case <-time.After(time.Minute):
		t.Fatal("the kiosk did not connect within a minute")
	}
	return c
}

// commandSubscriptions is how many subscriptions a kiosk with OnCommand
// makes: its JetStream queue's delivery subject and the direct subject.
// Waiting for only the first one races a direct publish.
const commandSubscriptions = 2

// settled fails unless cond holds once every goroutine in the bubble
// waits (synctest.Wait): what was sent has been handled by then.
func settled(t *testing.T, what string, cond func() bool) {
	t.Helper()
	synctest.Wait()
	if !cond() {
		t.Fatalf("no %s once the bubble settled", what)
	}
}

// eventually lets the bubble's clock run, 10 ms at a time, until cond
// holds, for at most 10 s of it: for what waits on NATS's own timers (a
// reconnection's wait and jitter). No time passes outside the bubble.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		synctest.Wait()
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in 10 s of the bubble's time", what)
}

// event waits for the next telemetry event.
func (r *rig) event(t *testing.T) wire.Event {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no telemetry event")
		return wire.Event{}
	}
}

func request(id string) wire.Request {
	return wire.Request{ID: id, Device: device, Flow: wire.FlowIdentify, Time: time.Now(), Palm: []byte("sealed")}
}

func TestDoRejects(t *testing.T) { devtest.Bubble(t, testDoRejects) }

func testDoRejects(t *testing.T) {
	r := newRig(t)
	c := r.dial(t)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name   string
		reply  func(wire.Request) []byte
		want   error
		reason string
	}{
		{"bad signature", func(q wire.Request) []byte {
			return r.signed(t, otherKey, device, wire.Statement{Kind: wire.KindDecision,
				Decision: &wire.Decision{Request: q.ID, Outcome: wire.Approved}}, 0, time.Minute)
		}, uplink.ErrBadSignature, "decision:bad_signature"},
		{"expired", func(q wire.Request) []byte { return r.decision(t, q.ID, device, -2*time.Minute, time.Minute) },
			uplink.ErrExpired, "decision:expired"},
		{"issued in the future", func(q wire.Request) []byte { return r.decision(t, q.ID, device, time.Hour, time.Minute) },
			uplink.ErrExpired, "decision:expired"},
		{"valid for too long", func(q wire.Request) []byte { return r.decision(t, q.ID, device, 0, 24*time.Hour) },
			uplink.ErrExpired, "decision:expired"},
		{"other device", func(q wire.Request) []byte { return r.decision(t, q.ID, "kiosk-2", 0, time.Minute) },
			uplink.ErrWrongDevice, "decision:wrong_device"},
		{"other request", func(q wire.Request) []byte { return r.decision(t, "req-other", device, 0, time.Minute) },
			uplink.ErrWrongRequest, "decision:wrong_request"},
		{"command instead of decision", func(q wire.Request) []byte {
			return r.signed(t, r.sign, device, wire.Statement{Kind: wire.KindCommand,
				Command: &wire.Command{Type: wire.CmdDeleteMyData, Seq: 1, Subject: "sub-1"}}, 0, time.Minute)
		}, uplink.ErrMalformed, "decision:malformed"},
		{"garbage", func(wire.Request) []byte { return []byte("not json") }, uplink.ErrMalformed, "decision:malformed"},
	}
	// No subtests: T.Run cannot be called in a bubble. A failure ends its
	// case, as it would end a subtest.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, tt := range tests {
		r.setReply(tt.reply)
		_, err := c.Do(ctx, request("req-"+strings.ReplaceAll(tt.name, " ", "-")))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Do: %v, want %v", tt.name, err, tt.want)
			continue
		}
		if e := r.event(t); e.Type != "uplink_rejected" || e.Reason != tt.reason || e.Device != device {
			t.Errorf("%s: telemetry %+v, want uplink_rejected %s", tt.name, e, tt.reason)
		}
	}
	if !hasLine(r.logs.String(), `level=WARN msg="uplink: rejected decision"`, "reason=bad_signature") {
		t.Errorf("no clear log line for a rejection:\n%s", r.logs.String())
	}
}

func TestDoReplay(t *testing.T) { devtest.Bubble(t, testDoReplay) }

func testDoReplay(t *testing.T) {
	r := newRig(t)
	c := r.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var first []byte
	r.setReply(func(q wire.Request) []byte {
		if first == nil {
			first = r.decision(t, q.ID, device, 0, time.Minute)
		}
		return first // the same signed decision every time
	})
	d, err := c.Do(ctx, request("req-1"))
	if err != nil || d.Outcome != wire.Approved || d.Request != "req-1" || d.Subject != "sub-1" {
		t.Fatalf("first Do = %+v, %v", d, err)
	}
	if _, err := c.Do(ctx, request("req-1")); !errors.Is(err, uplink.ErrReplayed) {
		t.Fatalf("replayed decision: %v, want ErrReplayed", err)
	}
	if e := r.event(t); e.Reason != "decision:replayed" {
		t.Fatalf("telemetry %+v", e)
	}
}

func TestCommands(t *testing.T) { devtest.Bubble(t, testCommands) }

func testCommands(t *testing.T) {
	r := newRig(t)
	got := make(chan wire.Command, 4)
	before := r.srv.NumSubscriptions()
	r.dial(t, uplink.OnCommand(func(c wire.Command) { got <- c }))
	// Commands are fire-and-forget: wait until both the kiosk's command
	// subscriptions (queued and direct) are in place.
	settled(t, "command subscriptions", func() bool { return r.srv.NumSubscriptions() == before+commandSubscriptions })
	_, otherKey, _ := ed25519.GenerateKey(nil)
	cmd := wire.Statement{Kind: wire.KindCommand, Command: &wire.Command{Type: wire.CmdDeleteMyData, Seq: 1, Subject: "sub-9"}}
	good := r.signed(t, r.sign, device, cmd, 0, time.Minute)
	subject := wire.CommandSubject(device, wire.CmdDeleteMyData)
	tests := []struct {
		name   string
		msg    []byte
		reason string // "" = delivered
	}{
		{"valid", good, ""},
		{"replayed", good, "command:replayed"},
		{"expired", r.signed(t, r.sign, device, cmd, -time.Hour, time.Minute), "command:expired"},
		{"bad signature", r.signed(t, otherKey, device, cmd, 0, time.Minute), "command:bad_signature"},
		{"for another device", r.signed(t, r.sign, "kiosk-2", cmd, 0, time.Minute), "command:wrong_device"},
	}
	// No subtests: T.Run cannot be called in a bubble. A failure ends its
	// case, as it would end a subtest.
	for _, tt := range tests {
		if err := r.cloud.Publish(subject, tt.msg); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.reason == "" {
			select {
			case c := <-got:
				if c.Type != wire.CmdDeleteMyData || c.Subject != "sub-9" {
					t.Errorf("%s: delivered %+v", tt.name, c)
				}
			case <-time.After(10 * time.Second): // the bubble's: once nothing else can happen
				t.Errorf("%s: valid command not delivered", tt.name)
			}
			continue
		}
		if e := r.event(t); e.Reason != tt.reason {
			t.Errorf("%s: telemetry %+v, want %s", tt.name, e, tt.reason)
			continue
		}
		select {
		case c := <-got:
			t.Errorf("%s: rejected command delivered: %+v", tt.name, c)
		default:
		}
	}
}

func TestNotConnected(t *testing.T) { devtest.Bubble(t, testNotConnected) }

func testNotConnected(t *testing.T) {
	r := newRig(t)
	c := r.dial(t)
	r.srv.Shutdown()
	settled(t, "disconnect", func() bool { return !c.Connected() })
	if _, err := c.Do(context.Background(), request("req-x")); !errors.Is(err, uplink.ErrNotConnected) {
		t.Fatalf("Do while down: %v, want ErrNotConnected", err)
	}
}

func TestNoCloud(t *testing.T) { devtest.Bubble(t, testNoCloud) }

func testNoCloud(t *testing.T) {
	r := newRig(t)
	c := r.dial(t)
	r.cloud.Close()
	settled(t, "drop of the cloud by the server", func() bool { return r.srv.NumClients() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Do(ctx, request("req-x")); !errors.Is(err, uplink.ErrNoCloud) {
		t.Fatalf("Do with no cloud: %v, want ErrNoCloud", err)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	devtest.Bubble(t, testReconnectAfterServerRestart)
}

func testReconnectAfterServerRestart(t *testing.T) {
	r := newRig(t)
	var mu sync.Mutex
	var states []string
	c := r.dial(t, uplink.Reconnect(20*time.Millisecond, 10*time.Millisecond), uplink.OnHealth(func(h uplink.Health) {
		mu.Lock()
		defer mu.Unlock()
		states = append(states, h.State)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Do(ctx, request("req-before")); err != nil {
		t.Fatal(err)
	}
	r.srv.Shutdown()
	r.srv.WaitForShutdown()
	settled(t, "disconnect", func() bool { return !c.Connected() })
	r.serve(t) // a new server, where the pipe leads now
	// The kiosk and the cloud retry on their own timers (wait and jitter).
	eventually(t, "reconnect", func() bool { return c.Connected() && r.cloud.IsConnected() })
	// The cloud's subscriptions are replayed on reconnect; flush so they are in place.
	if err := r.cloud.Flush(); err != nil {
		t.Fatal(err)
	}
	d, err := c.Do(ctx, request("req-after"))
	if err != nil || d.Request != "req-after" {
		t.Fatalf("Do after restart = %+v, %v", d, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(states, ","); !strings.Contains(got, "disconnected,reconnected") {
		t.Fatalf("health states %q, want disconnected then reconnected", got)
	}
}

// hasLine reports whether one line of logs contains every part.
func hasLine(logs string, parts ...string) bool {
	for _, l := range strings.Split(logs, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestTelemetry(t *testing.T) { devtest.Bubble(t, testTelemetry) }

func testTelemetry(t *testing.T) {
	r := newRig(t)
	c := r.dial(t)
	ctx := context.Background()
	if err := c.Telemetry(ctx, wire.Event{Type: "decision", Flow: wire.FlowEnrol, Outcome: wire.Approved, Millis: 12}); err != nil {
		t.Fatal(err)
	}
	if e := r.event(t); e.Device != device || e.Type != "decision" || e.Outcome != wire.Approved || e.Time.IsZero() {
		t.Fatalf("received %+v", e)
	}
	// A point of sale's answer: its status is the outcome.
	if err := c.Telemetry(ctx, wire.Event{Type: "pos_answer", Flow: wire.FlowPay, Outcome: "cancelled", Reason: "cloud_down"}); err != nil {
		t.Fatal(err)
	}
	if e := r.event(t); e.Type != "pos_answer" || e.Outcome != "cancelled" || e.Reason != "cloud_down" {
		t.Fatalf("received %+v", e)
	}
	if err := c.Telemetry(ctx, wire.Event{Type: "card", Reason: "pan_4111111111111111"}); !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("an event carrying a card number: %v, want wire.ErrMalformed", err)
	}
}

// TestCommandReplayedAfterRestart: the nonce cache is gone after a restart,
// the sealed sequence is not; a command signed before the restart and still
// valid is refused, a newer one is handled.
func TestCommandReplayedAfterRestart(t *testing.T) {
	devtest.Bubble(t, testCommandReplayedAfterRestart)
}

func testCommandReplayedAfterRestart(t *testing.T) {
	r := newRig(t)
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, secureboot.DeviceKeySize)
	base := r.srv.NumSubscriptions()
	kiosk := func() (*uplink.Client, chan wire.Command) {
		f, err := secureboot.NewSealedFile(filepath.Join(dir, "sequence"), "sequence", key,
			&secureboot.FileCounter{Path: filepath.Join(dir, "sequence.counter")})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan wire.Command, 4)
		settled(t, "unsubscription of the last kiosk", func() bool { return r.srv.NumSubscriptions() == base })
		c := r.dial(t, uplink.OnCommand(func(c wire.Command) { got <- c }), uplink.CommandSequence(secureboot.NewFileSequence(f)))
		settled(t, "command subscriptions", func() bool { return r.srv.NumSubscriptions() == base+commandSubscriptions })
		return c, got
	}
	command := func(seq uint64) []byte {
		return r.signed(t, r.sign, device, wire.Statement{Kind: wire.KindCommand,
			Command: &wire.Command{Type: wire.CmdDeleteMyData, Seq: seq, Subject: "sub-9"}}, 0, time.Hour)
	}
	subject := wire.CommandSubject(device, wire.CmdDeleteMyData)
	expect := func(got chan wire.Command, seq uint64, reason string) {
		t.Helper()
		if reason != "" {
			if e := r.event(t); e.Reason != reason {
				t.Fatalf("telemetry %+v, want %s", e, reason)
			}
		}
		if reason != "" {
			// The rejection was reported, so the handler is done with it.
			select {
			case c := <-got:
				t.Fatalf("refused command delivered: %+v", c)
			default:
			}
			return
		}
		select {
		case c := <-got:
			if c.Seq != seq {
				t.Fatalf("delivered %+v, want seq %d", c, seq)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("command %d not delivered", seq)
		}
	}
	c, got := kiosk()
	five := command(5)
	r.cloud.Publish(subject, five)
	expect(got, 5, "")
	r.cloud.Publish(subject, command(3)) // older, new nonce
	expect(got, 0, "command:replayed")
	c.Close()

	_, got = kiosk() // palmd restarted: a new client, an empty nonce cache
	r.cloud.Publish(subject, five)
	expect(got, 0, "command:replayed")
	r.cloud.Publish(subject, command(6))
	expect(got, 6, "")
}
