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

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// skipUnderRace skips a test that runs the whole palmd on the real clock:
// the race detector slows it past the capture timeout (raceEnabled). It
// runs in make test's pass without it and in make hil.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("runs palmd on the real clock, which the race detector slows past the capture timeout")
	}
}

// kioskWithPOS runs the simulation build (embedded NATS server and
// reference cloud) with its POS link on a local socket.
type kioskWithPOS struct {
	world *sim.World
	addr  string
	out   *syncBuffer
	logs  *syncBuffer
	stop  func() []bus.Event
}

func startKioskWithPOS(t *testing.T) *kioskWithPOS {
	t.Helper()
	cfg := config.Default()
	k := &kioskWithPOS{world: sim.NewWorld(), addr: freeAddr(t), out: &syncBuffer{}, logs: &syncBuffer{}}
	cfg.POS.Listen = k.addr
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	log := slog.New(slog.NewTextHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, log, output{w: k.out}, consoleFlags{}, &simulation{world: k.world}, seams{})
	}()
	k.stop = func() []bus.Event {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		return decodeEvents(t, k.out.Bytes())
	}
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("palmd log:\n%s", k.logs.Bytes())
		}
	})
	k.waitScreen(t, 0, "idle")
	return k
}

// dial connects a POS, as cmd/posdemo does.
func (k *kioskWithPOS) dial(t *testing.T) *pos.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := pos.Dial(ctx, k.addr)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("the POS socket never opened: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitScreen waits until the display shows name, among the screens from
// the from-th on, and returns how many screens have been shown.
func (k *kioskWithPOS) waitScreen(t *testing.T, from int, name string) int {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ss := k.world.Screens()
		for i := from; i < len(ss); i++ {
			if ss[i].Name == name {
				return i + 1
			}
		}
	}
	t.Fatalf("screen %s never showed (screens: %v)", name, screenNames(k.world))
	return 0
}

// TestPOSClientOverTheSocket plays the example POS client's side of the
// link against the simulation build: approved, declined, cancelled by the
// POS, cancelled at the kiosk, POS gone mid-payment, and the same message
// id twice (one charge). It runs on the real clock: a TCP socket never
// counts as waiting in a synctest bubble (onFrameClock).
func TestPOSClientOverTheSocket(t *testing.T) {
	skipUnderRace(t)
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
