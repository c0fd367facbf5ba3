package cloud_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// TestBusyWhenOverloaded: a request that finds the one worker busy and its
// queue (4) full is answered retry "busy" at once, not queued; the others
// are answered normally once the worker is free, and the shed id sent
// again is decided then (a busy answer is not remembered). The worker is
// held inside the cloud's clock, so nothing here waits on wall-clock time;
// QueueTimeout, which the queue measures on the machine's clock, is set
// beyond the test's reach, so that the queued requests (strangers, each
// searched at all its poses: slow under the race detector) are answered
// however long the one worker takes.
func TestBusyWhenOverloaded(t *testing.T) {
	d := newDeployment(t)
	var hold atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	now := func() time.Time {
		if hold.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
		return time.Now()
	}
	c, err := cloud.New(cloud.Config{Seal: d.seal, Payment: d.pay, SignKey: d.sign, Workers: 1, QueueTimeout: time.Hour, Now: now})
	if err != nil {
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
	defer nc.Close()
	sub, err := c.Subscribe(nc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sub.Unsubscribe(); c.Wait() }()

	request := func(id string) wire.Request {
		r := wire.Request{ID: id, Device: "kiosk-1", Flow: wire.FlowIdentify, Time: time.Now()}
		if r.Palm, err = d.palmSealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, region(1))); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type answer struct {
		id  string
		d   wire.Decision
		err error
	}
	answers := make(chan answer, 6)
	var wg sync.WaitGroup
	send := func(r wire.Request) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec, err := d.kiosk.Do(ctx, r)
			answers <- answer{r.ID, dec, err}
		}()
	}
	d.do(t, "warm-up", wire.FlowIdentify, 1) // the kiosk is connected
	hold.Store(true)
	send(request("held"))
	select {
	case <-entered: // the worker holds "held"
	case <-ctx.Done():
		t.Fatal("the worker never took the first request")
	}
	reqs := map[string]wire.Request{}
	for i := range 5 { // four fill the queue, one is shed
		r := request(fmt.Sprint("queued-", i))
		reqs[r.ID] = r
		send(r)
	}
	first := <-answers
	if first.err != nil || first.d.Outcome != wire.Retry || first.d.Reason != "busy" {
		t.Fatalf("first answer %+v: want retry busy while the worker is held", first)
	}
	close(release)
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.err != nil || a.d.Outcome == wire.Retry {
			t.Errorf("%s: %+v, %v: want a decision once the worker is free", a.id, a.d, a.err)
		}
	}
	if s := c.Stats(); s.Shed != 1 || s.Answered != 6 {
		t.Errorf("stats %+v: want 1 shed and 6 answered (warm-up, held, four queued)", s)
	}
	again, err := d.kiosk.Do(ctx, reqs[first.id])
	if err != nil || again.Outcome == wire.Retry {
		t.Errorf("%s sent again: %+v, %v: want a decision, not the busy answer remembered", first.id, again, err)
	}
}
