package cloud

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink/wire"
)

// Queue is the queue group every instance of the cloud subscribes in: each
// request goes to one instance.
const Queue = "palmcloud"

// Stats counts what the cloud did with the requests it received.
type Stats struct {
	// Answered requests got a signed reply.
	Answered uint64
	// Refused requests named a reply subject outside their device's inbox
	// and got no reply.
	Refused uint64
	// Dropped requests could not be attributed, or were in progress already.
	Dropped uint64
	// Shed requests waited longer than QueueTimeout for a worker, or found
	// the queue full: they were answered retry "busy" at once, without any
	// decrypting or matching (or dropped, when the busy answers were
	// behind too), and not remembered (the same id sent again is decided
	// then).
	Shed uint64
}

// Stats returns the counts so far.
func (c *Cloud) Stats() Stats {
	return Stats{Answered: c.stats.answered.Load(), Refused: c.stats.refused.Load(),
		Dropped: c.stats.dropped.Load(), Shed: c.stats.shed.Load()}
}

// job is a request waiting for a worker.
type job struct {
	m  *nats.Msg
	at time.Time
}

// Subscribe answers every kiosk's requests arriving on nc, in the queue
// group Queue, with Config.Workers workers, from the moment it returns
// until the subscription is unsubscribed, drained or closed. Requests wait
// for a worker in a queue of 4 per worker; one that finds the queue full
// or waited longer than QueueTimeout is shed: answered retry "busy" at
// once rather than queued until its kiosk stops waiting (or, when even
// the busy answers are behind, dropped unanswered). A request is answered only on
// its own device's inbox (wire.ReplyAllowed). Wait waits until the
// workers have finished after the subscription ends.
func (c *Cloud) Subscribe(nc *nats.Conn) (*nats.Subscription, error) {
	jobs := make(chan job, 4*c.cfg.Workers)
	// The subscription's callback only hands requests on: one that finds
	// the queue full goes to the shedder, which answers busy (decoding
	// and signing there, not in the callback, which must keep up with
	// every arrival), or, when the shedder is behind too, is dropped.
	busy := make(chan *nats.Msg, 4*c.cfg.Workers)
	sub, err := nc.QueueSubscribe(wire.AllRequests, Queue, func(m *nats.Msg) {
		select {
		case jobs <- job{m: m, at: c.cfg.Now()}:
			return
		default:
		}
		select {
		case busy <- m:
		default:
			c.stats.shed.Add(1)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("cloud: subscribe: %w", err)
	}
	// Called once the subscription's callbacks are over: no more sends.
	sub.SetClosedHandler(func(string) { close(jobs); close(busy) })
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for m := range busy {
			c.shed(m)
		}
	}()
	for range c.cfg.Workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for j := range jobs {
				if c.cfg.Now().Sub(j.at) > c.cfg.QueueTimeout {
					c.shed(j.m)
					continue
				}
				c.serve(j.m)
			}
		}()
	}
	if err := nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("cloud: subscribe: %w", err)
	}
	return sub, nil
}

// Wait waits until the workers of every ended subscription have answered
// the requests they hold.
func (c *Cloud) Wait() { c.wg.Wait() }

// shed answers m retry "busy" without opening it or remembering its id,
// under the same checks as serve: the request must be its device's, and
// the reply goes only to that device's inbox.
func (c *Cloud) shed(m *nats.Msg) {
	c.stats.shed.Add(1)
	device, _, ok := wire.ParseRequestSubject(m.Subject)
	if !ok || !wire.ReplyAllowed(device, m.Reply) {
		return
	}
	req, err := wire.DecodeRequest(m.Data)
	if err != nil || m.Subject != wire.RequestSubject(req.Device, req.Flow) {
		return
	}
	reply, err := c.answer(req, wire.Decision{Outcome: wire.Retry, Reason: "busy"})
	if err == nil {
		err = m.Respond(reply)
	}
	if err != nil {
		c.log.Warn("cloud: busy answer failed", "device", device, "err", err)
	}
}

func (c *Cloud) serve(m *nats.Msg) {
	device, _, ok := wire.ParseRequestSubject(m.Subject)
	if !ok {
		c.stats.dropped.Add(1)
		c.log.Warn("cloud: request dropped", "err", "not a request subject")
		return
	}
	if !wire.ReplyAllowed(device, m.Reply) {
		c.stats.refused.Add(1)
		c.log.Warn("cloud: request refused: its reply subject is not the kiosk's inbox", "device", device)
		return
	}
	reply, err := c.Handle(m.Subject, m.Data)
	if err != nil {
		c.stats.dropped.Add(1)
		c.log.Warn("cloud: request dropped", "device", device, "err", err)
		return
	}
	// Counted before the reply leaves, so that a kiosk holding its answer
	// always finds it counted.
	c.stats.answered.Add(1)
	if err := m.Respond(reply); err != nil {
		c.stats.answered.Add(^uint64(0))
		c.stats.dropped.Add(1)
		c.log.Warn("cloud: reply failed", "device", device, "err", err)
	}
}
