//go:build sim

package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/pos"
)

// syncBuffer is a bytes.Buffer safe to write from palmd's sinks while a
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// memListener is a net.Listener in memory: Dial hands Accept one end of a
// net.Pipe. Made in a testing/synctest bubble, every wait on it counts as
// waiting, as a socket's never does.
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// Dial connects a client, once Accept takes the other end.
func (l *memListener) Dial() (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, net.ErrClosed
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "in-memory" }

// kioskWithPOS runs the simulation build (embedded NATS server and
// reference cloud) with its POS link on an in-memory listener, in a
// testing/synctest bubble on the frame clock (onFrameClock).
type kioskWithPOS struct {
	world *sim.World
	link  *memListener
	out   *syncBuffer
	logs  *syncBuffer
	stop  func() []bus.Event
}

// startKioskWithPOS starts palmd; call it in the bubble.
func startKioskWithPOS(t *testing.T) *kioskWithPOS {
	t.Helper()
	k := &kioskWithPOS{world: sim.NewWorld(sim.FrameClock(clockwork.NewRealClock())), link: newMemListener(),
		out: &syncBuffer{}, logs: &syncBuffer{}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	log := slog.New(slog.NewTextHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, config.Default(), log, output{w: k.out}, consoleFlags{}, &simulation{world: k.world, pos: k.link}, seams{})
	}()
	ended := sync.OnceValue(func() error { return <-done })
	k.stop = func() []bus.Event {
		cancel()
		if err := ended(); err != nil {
			t.Errorf("serve: %v", err)
		}
		return decodeEvents(t, k.out.Bytes())
	}
	t.Cleanup(func() {
		cancel()
		ended() // the bubble ends only once palmd has
		if t.Failed() {
			t.Logf("palmd log:\n%s", k.logs.Bytes())
		}
	})
	k.waitScreen(t, 0, "idle")
	return k
}

// dial connects a POS, as cmd/posdemo does over a socket.
func (k *kioskWithPOS) dial(t *testing.T) *pos.Client {
	t.Helper()
	conn, err := k.link.Dial()
	if err != nil {
		t.Fatalf("the POS link: %v", err)
	}
	c := pos.NewClient(conn)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitScreen waits until the display shows name, among the screens from
// the from-th on, and returns how many screens have been shown. It lets
// the frame clock run, a frame at a time, for at most a minute of it.
func (k *kioskWithPOS) waitScreen(t *testing.T, from int, name string) int {
	t.Helper()
	for range int(time.Minute / sim.FramePeriod) {
		ss := k.world.Screens()
		for i := from; i < len(ss); i++ {
			if ss[i].Name == name {
				return i + 1
			}
		}
		time.Sleep(sim.FramePeriod) // the bubble's clock
	}
	t.Fatalf("screen %s never showed in a minute of the frame clock (screens: %v)", name, screenNames(k.world))
	return 0
}

// TestPOSClientAgainstPalmd plays the example POS client's side of the
// link against the simulation build: approved, declined, cancelled by the
// POS, cancelled at the kiosk, POS gone mid-payment, and the same message
// id twice (one charge). The link is in memory, so that palmd runs on the
// frame clock (onFrameClock); TestPOSLinkOnTheSocket serves it on TCP.
func TestPOSClientAgainstPalmd(t *testing.T) { onFrameClock(t, testPOSClientAgainstPalmd) }

func testPOSClientAgainstPalmd(t *testing.T) {
	k := startKioskWithPOS(t)
	w := k.world
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Alice enrols with her card.
	w.InsertCard("4539578763621486")
	n := k.waitScreen(t, 0, "enter_phone")
	w.Type([]keypad.Key("5550100200\n")...)
	n = k.waitScreen(t, n, "hover")
	w.Hover(sim.Person{Name: "alice"})
	n = k.waitScreen(t, n, "enrolled")
	w.Withdraw()
	w.RemoveCard()
	n = k.waitScreen(t, n, "idle")

	c := k.dial(t)
	pay := func(id string, amount int64) pos.Request {
		return pos.Request{ID: id, Type: pos.Pay, Amount: amount, Currency: "EUR", Merchant: "Corner Shop"}
	}
	check := func(name string, a pos.Answer, err error, st pos.Status, reason string) {
		t.Helper()
		if err != nil || a.Status != st || (reason != "" && a.Reason != reason) {
			t.Fatalf("%s: %+v, %v; want %s %s", name, a, err, st, reason)
		}
	}

	// Approved.
	if err := c.Send(pay("m1", 1250)); err != nil {
		t.Fatal(err)
	}
	n = k.waitScreen(t, n, "pay")
	if s := w.Screens()[n-1]; s.Amount != "EUR 12.50" || s.Merchant != "Corner Shop" {
		t.Errorf("pay screen shows amount %q and merchant %q, want EUR 12.50 and Corner Shop", s.Amount, s.Merchant)
	}
	w.Hover(sim.Person{Name: "alice"})
	approved, err := c.Await(ctx, "m1")
	check("approved", approved, err, pos.Approved, "")
	if !strings.HasPrefix(approved.Reference, "pay-") {
		t.Errorf("approval without a reference: %+v", approved)
	}
	n = k.waitScreen(t, n, "paid")
	w.Withdraw()
	n = k.waitScreen(t, n, "idle")

	// The same message id twice: the same answer, no second session.
	shown := len(w.Screens())
	again, err := c.Do(ctx, pay("m1", 1250))
	check("same id", again, err, pos.Approved, "")
	if again.Reference != approved.Reference {
		t.Errorf("same id: reference %s, want %s", again.Reference, approved.Reference)
	}

	// Declined: over the reference cloud's limit.
	if err := c.Send(pay("m2", 600_00)); err != nil {
		t.Fatal(err)
	}
	n = k.waitScreen(t, n, "pay")
	// The idle screen may be drawn again meanwhile (the supervisor redraws
	// it on any input while no job runs); anything else is a session.
	if between := screenNames(w)[shown : n-1]; slices.ContainsFunc(between, func(s string) bool { return s != "idle" }) {
		t.Errorf("the repeated id showed screens %v", between)
	}
	w.Hover(sim.Person{Name: "alice"})
	a, err := c.Await(ctx, "m2")
	check("declined", a, err, pos.Declined, "over_limit")
	n = k.waitScreen(t, n, "pay_declined")
	w.Withdraw()
	n = k.waitScreen(t, n, "idle")

	// Cancelled by the POS.
	if err := c.Send(pay("m3", 500)); err != nil {
		t.Fatal(err)
	}
	n = k.waitScreen(t, n, "pay")
	a, err = c.Do(ctx, pos.Request{ID: "m3-cancel", Type: pos.Cancel, Ref: "m3"})
	check("the cancel", a, err, pos.OK, "")
	a, err = c.Await(ctx, "m3")
	check("cancelled by the POS", a, err, pos.Cancelled, "pos")
	n = k.waitScreen(t, n, "idle")

	// Cancelled at the kiosk.
	if err := c.Send(pay("m4", 500)); err != nil {
		t.Fatal(err)
	}
	n = k.waitScreen(t, n, "pay")
	w.Type(keypad.Cancel)
	a, err = c.Await(ctx, "m4")
	check("cancelled at the kiosk", a, err, pos.Cancelled, "customer")
	n = k.waitScreen(t, n, "idle")

	// The POS goes away mid-payment; asked again, the id is answered
	// cancelled, and nothing was charged.
	gone := k.dial(t)
	if err := gone.Send(pay("m5", 700)); err != nil {
		t.Fatal(err)
	}
	n = k.waitScreen(t, n, "pay")
	gone.Close()
	k.waitScreen(t, n, "idle")
	a, err = c.Do(ctx, pay("m5", 700))
	check("POS gone mid-payment", a, err, pos.Cancelled, "pos_gone")

	evs := k.stop()
	var pays []string
	for _, ev := range evs {
		if ev.Event == bus.Decision && ev.Flow == "pay" {
			pays = append(pays, ev.Outcome)
		}
	}
	if strings.Join(pays, ",") != "approved,declined" {
		t.Errorf("pay decisions %v, want one approval (m1, asked twice) and one decline (m2)", pays)
	}
}

// answerAll approves every request at once, with the request's id as the
// reference.
type answerAll struct{}

func (answerAll) Request(_ uint64, r pos.Request, reply func(pos.Answer) error) {
	_ = reply(pos.Answer{ID: r.ID, Status: pos.Approved, Reference: "ref-" + r.ID})
}

func (answerAll) Gone(uint64) {}

// TestPOSLinkOnTheSocket: with pos.listen set and no listener of the
// simulation's, the link listens on that TCP address before startPOS
// returns, and a client that connects there is served.
func TestPOSLinkOnTheSocket(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var g errgroup.Group
	defer func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Errorf("the link: %v", err)
		}
	}()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := startPOS(ctx, &g, config.POS{Listen: "127.0.0.1:0"}, nil, nil, answerAll{}, log); err != nil {
		t.Fatal(err)
	}
	// The address the system chose is in the log line.
	_, addr, ok := strings.Cut(logs.String(), "addr=")
	if !ok {
		t.Fatalf("no listening address logged:\n%s", logs.String())
	}
	c, err := pos.Dial(ctx, strings.TrimSpace(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := c.Do(ctx, pos.Request{ID: "m1", Type: pos.Pay, Amount: 100, Currency: "EUR", Merchant: "Corner Shop"})
	if err != nil || a.Status != pos.Approved || a.Reference != "ref-m1" {
		t.Fatalf("answer %+v, %v; want approved with reference ref-m1", a, err)
	}
}
