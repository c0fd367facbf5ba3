package cloud

import (
	"fmt"

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
}

// Stats returns the counts so far.
func (c *Cloud) Stats() Stats {
	return Stats{Answered: c.stats.answered.Load(), Refused: c.stats.refused.Load(), Dropped: c.stats.dropped.Load()}
}

// Subscribe answers every kiosk's requests arriving on nc, in the queue
// group Queue, up to Config.Workers at once, from the moment it returns
// until the subscription is unsubscribed or drained. A request is answered
// only on its own device's inbox (wire.ReplyAllowed). Wait waits for the
// answers in progress.
func (c *Cloud) Subscribe(nc *nats.Conn) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(wire.AllRequests, Queue, func(m *nats.Msg) {
		c.sem <- struct{}{} // blocks this subscription's delivery while every worker is busy
		c.wg.Add(1)
		go func() {
			defer func() { <-c.sem; c.wg.Done() }()
			c.serve(m)
		}()
	})
	if err != nil {
		return nil, fmt.Errorf("cloud: subscribe: %w", err)
	}
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("cloud: subscribe: %w", err)
	}
	return sub, nil
}

// Wait waits until every request handed to a worker is answered.
func (c *Cloud) Wait() { c.wg.Wait() }

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
	if err := m.Respond(reply); err != nil {
		c.log.Warn("cloud: reply failed", "device", device, "err", err)
		return
	}
	c.stats.answered.Add(1)
}
