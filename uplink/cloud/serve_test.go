package cloud_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// heldClock is the cloud's and the kiosk's clock in the queue's tests: it
// stands still until the test moves it, and it can hold the cloud's only
// worker inside one of its reads.
type heldClock struct {
	mu      sync.Mutex
	t       time.Time
	holdIn  int           // the cloud's read that holds, counted down; 0: none
	reads   chan struct{} // a token per cloud read once a hold is armed
	entered chan struct{} // closed when the held read begins
	release chan struct{} // closed by letGo
	once    sync.Once
}

func newHeldClock() *heldClock {
	return &heldClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), reads: make(chan struct{}, 256),
		entered: make(chan struct{}), release: make(chan struct{})}
}

// now is the kiosk's clock, and the time the test stamps requests with.
func (c *heldClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// cloudNow is the cloud's clock. After holdRead(n), the n-th read blocks
// until letGo, and every read leaves a token in reads.
func (c *heldClock) cloudNow() time.Time {
	c.mu.Lock()
	armed, hold := c.holdIn != 0, false
	if armed {
		c.holdIn--
		hold = c.holdIn == 0
		if hold {
			c.holdIn = -1 // armed, nothing left to hold
		}
	}
	c.mu.Unlock()
	if armed {
		c.reads <- struct{}{}
	}
	if hold {
		close(c.entered)
		<-c.release
	}
	return c.now()
}

// holdRead arms the hold: the cloud's n-th read from now on holds.
func (c *heldClock) holdRead(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holdIn = n
}

// letGo lets the held read return; it may be called more than once.
func (c *heldClock) letGo() { c.once.Do(func() { close(c.release) }) }

func (c *heldClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// oneWorker is a deployment whose cloud has one worker and whose kiosk
// and cloud read clk.
type oneWorker struct {
	*deployment
	c     *cloud.Cloud
	kiosk *uplink.Client
	clk   *heldClock
}

func newOneWorker(t *testing.T, queueTimeout time.Duration) *oneWorker {
	t.Helper()
	d := newDeployment(t)
	w := &oneWorker{deployment: d, clk: newHeldClock()}
	var err error
	if w.c, err = cloud.New(cloud.Config{Seal: d.seal, Payment: d.pay, SignKey: d.sign, Workers: 1, QueueTimeout: queueTimeout, Now: w.clk.cloudNow}); err != nil {
		t.Fatal(err)
	}
	creds, err := d.auth.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(d.srv.ClientURL(), nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := w.c.Subscribe(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { w.clk.letGo(); sub.Unsubscribe(); w.c.Wait(); nc.Close() })
	kc, err := d.auth.Device("kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	if w.kiosk, err = uplink.Dial(d.srv.ClientURL(), "kiosk-1", d.sign.Public().(ed25519.PublicKey), append(kc.Options(), uplink.Clock(w.clk.now))...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.kiosk.Close() })
	return w
}

// request is an identification of a made-up person, stamped on the clock.
func (w *oneWorker) request(t *testing.T, id string) wire.Request {
	t.Helper()
	r := wire.Request{ID: id, Device: "kiosk-1", Flow: wire.FlowIdentify, Time: w.clk.now()}
	var err error
	if r.Palm, err = w.palmSealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, region(1))); err != nil {
		t.Fatal(err)
	}
	return r
}

// heldRead is the read of the cloud's clock that hold holds.
const heldRead = 3

type answer struct {
	id  string
	d   wire.Decision
	err error
}

// hold answers a warm-up request, then sends "held" and returns once the
// worker holds it inside the clock's read. The cloud reads the clock once
// when a request is queued, once when a worker takes it from the queue,
// and then to decide it: the third read holds, after the queue's check.
func (w *oneWorker) hold(ctx context.Context, t *testing.T, send func(wire.Request)) {
	t.Helper()
	if dec, err := w.kiosk.Do(ctx, w.request(t, "warm-up")); err != nil || dec.Outcome == wire.Retry {
		t.Fatalf("warm-up: %+v, %v", dec, err)
	}
	w.clk.holdRead(heldRead)
	send(w.request(t, "held"))
	select {
	case <-w.clk.entered:
	case <-ctx.Done():
		t.Fatal("the worker never took the first request")
	}
}

// TestBusyWhenOverloaded: a request that finds the one worker busy and its
// queue (4) full is answered retry "busy" at once, not queued; the others
// are answered normally once the worker is free, and the shed id sent
// again is decided then (a busy answer is not remembered). The clock
// stands still, so however long the held worker and the queued strangers
// (each searched at all its poses: slow under the race detector) take, no
// request outwaits the queue's timeout.
func TestBusyWhenOverloaded(t *testing.T) {
	w := newOneWorker(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	answers := make(chan answer, 6)
	var wg sync.WaitGroup
	send := func(r wire.Request) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec, err := w.kiosk.Do(ctx, r)
			answers <- answer{r.ID, dec, err}
		}()
	}
	w.hold(ctx, t, send)
	reqs := map[string]wire.Request{}
	for i := range 5 { // four fill the queue, one is shed
		r := w.request(t, fmt.Sprint("queued-", i))
		reqs[r.ID] = r
		send(r)
	}
	first := <-answers
	if first.err != nil || first.d.Outcome != wire.Retry || first.d.Reason != "busy" {
		t.Fatalf("first answer %+v: want retry busy while the worker is held", first)
	}
	w.clk.letGo()
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.err != nil || a.d.Outcome == wire.Retry {
			t.Errorf("%s: %+v, %v: want a decision once the worker is free", a.id, a.d, a.err)
		}
	}
	if s := w.c.Stats(); s.Shed != 1 || s.Answered != 6 {
		t.Errorf("stats %+v: want 1 shed and 6 answered (warm-up, held, four queued)", s)
	}
	again, err := w.kiosk.Do(ctx, reqs[first.id])
	if err != nil || again.Outcome == wire.Retry {
		t.Errorf("%s sent again: %+v, %v: want a decision, not the busy answer remembered", first.id, again, err)
	}
}

// TestShedAfterQueueTimeout: requests queued behind a held worker are
// answered retry "busy" once they have waited longer than QueueTimeout on
// the cloud's clock, and decided when they waited exactly that long; a
// shed request sent again is decided.
func TestShedAfterQueueTimeout(t *testing.T) {
	const timeout = 2 * time.Second
	for _, tc := range []struct {
		name   string
		waited time.Duration
		shed   bool
	}{
		{"waited the timeout", timeout, false},
		{"waited longer", timeout + time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newOneWorker(t, timeout)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			answers := make(chan answer, 4)
			send := func(r wire.Request) {
				go func() {
					dec, err := w.kiosk.Do(ctx, r)
					answers <- answer{r.ID, dec, err}
				}()
			}
			w.hold(ctx, t, send)
			const queued = 3
			reqs := map[string]wire.Request{}
			for i := range queued {
				r := w.request(t, fmt.Sprint("queued-", i))
				reqs[r.ID] = r
				send(r)
			}
			// Each queued request is stamped by one read after the
			// held one.
			for range heldRead + queued {
				select {
				case <-w.clk.reads:
				case <-ctx.Done():
					t.Fatal("the requests were never queued")
				}
			}
			w.clk.advance(tc.waited)
			w.clk.letGo()
			for range 1 + queued {
				a := <-answers
				busy := a.err == nil && a.d.Outcome == wire.Retry && a.d.Reason == "busy"
				switch {
				case a.err != nil:
					t.Errorf("%s: %v", a.id, a.err)
				case a.id == "held" && a.d.Outcome == wire.Retry:
					t.Errorf("held: %+v: want a decision (it was taken in time)", a.d)
				case a.id != "held" && busy != tc.shed:
					t.Errorf("%s waited %v: %+v: want busy %v", a.id, tc.waited, a.d, tc.shed)
				}
			}
			want := cloud.Stats{Answered: 2 + queued}
			if tc.shed {
				want = cloud.Stats{Answered: 2, Shed: queued}
			}
			if s := w.c.Stats(); s != want {
				t.Errorf("stats %+v: want %+v", s, want)
			}
			if !tc.shed {
				return
			}
			if again, err := w.kiosk.Do(ctx, reqs["queued-0"]); err != nil || again.Outcome == wire.Retry {
				t.Errorf("queued-0 sent again: %+v, %v: want a decision, not the busy answer remembered", again, err)
			}
		})
	}
}
