package cloud

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/palmd/palmd/uplink/wire"
)

// Send signs cmd for device and sends it. With a store (Open) the command
// is queued in JetStream and delivered, in order and once, when the kiosk
// is connected, even if it is offline now; without one it is published on
// nc and lost if the kiosk is offline.
func (c *Cloud) Send(nc *nats.Conn, device string, cmd wire.Command) error {
	b, err := c.Command(device, cmd)
	if err != nil {
		return err
	}
	if c.store == nil {
		if err := nc.Publish(wire.CommandSubject(device, cmd.Type), b); err != nil {
			return fmt.Errorf("cloud: send command: %w", err)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := c.store.consumer(ctx, device); err != nil {
		return err
	}
	if _, err := c.store.js.Publish(ctx, wire.CommandQueueSubject(device, cmd.Type), b); err != nil {
		return fmt.Errorf("cloud: queue command: %w", err)
	}
	return nil
}

// consumer makes sure device's durable command consumer exists: it
// delivers one command at a time (MaxAckPending 1, so in order) on the
// kiosk's own command subject and redelivers until acknowledged.
func (s *store) consumer(ctx context.Context, device string) error {
	if _, ok := s.consumers.Load(device); ok {
		return nil
	}
	_, err := s.js.CreateOrUpdatePushConsumer(ctx, wire.CommandStream, jetstream.ConsumerConfig{
		Durable:        wire.CommandConsumer(device),
		Description:    "commands for " + device,
		FilterSubject:  wire.CommandQueueSubject(device, "*"),
		DeliverSubject: wire.CommandDeliverSubject(device),
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  1,
	})
	if err != nil {
		return fmt.Errorf("cloud: command consumer for %s: %w", device, err)
	}
	s.consumers.Store(device, struct{}{})
	return nil
}
