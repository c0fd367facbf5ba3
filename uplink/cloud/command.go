package cloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/wire"
)

// sequencer numbers each device's commands. A number is the larger of the
// device's last number plus one and the clock in microseconds, so it rises
// across restarts of the cloud without being stored, as long as the clock
// does not go back; the device refuses a number that is not above the last
// it accepted (secureboot.SequenceStore).
type sequencer struct {
	mu   sync.Mutex
	last map[string]uint64
	send map[string]*sync.Mutex // held from numbering to publishing
}

func (s *sequencer) next(device string, now time.Time) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = make(map[string]uint64)
	}
	n := max(s.last[device]+1, uint64(max(now.UnixMicro(), 0)))
	s.last[device] = n
	return n
}

// lock serialises numbering and sending for one device, so that commands
// reach its queue in the order of their numbers.
func (s *sequencer) lock(device string) func() {
	s.mu.Lock()
	if s.send == nil {
		s.send = make(map[string]*sync.Mutex)
	}
	m, ok := s.send[device]
	if !ok {
		m = new(sync.Mutex)
		s.send[device] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Command returns the signed statement carrying cmd for device, valid for
// CommandTTL and numbered with the device's next sequence number (cmd.Seq
// is set here). Commands must reach the device in the order they were
// numbered: Send does that.
func (c *Cloud) Command(device string, cmd wire.Command) ([]byte, error) {
	cmd.Seq = c.seq.next(device, c.cfg.Now())
	return c.sign(device, wire.Statement{Kind: wire.KindCommand, Command: &cmd}, c.cfg.CommandTTL)
}

// Send signs cmd for device and sends it. With a store (Open) the command
// is queued in JetStream and delivered, in order and once, when the kiosk
// is connected, even if it is offline now; without one it is published on
// nc and lost if the kiosk is offline. One instance sends a device's
// commands in the order of their sequence numbers; instances of a region
// sending to the same device at the same moment may not.
func (c *Cloud) Send(nc *nats.Conn, device string, cmd wire.Command) error {
	unlock := c.seq.lock(device)
	defer unlock()
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

// PublishBundle verifies the signed firmware bundle read from r with p
// (signature, product, version, digest) while it stores it in the object
// store wire.BundleBucket (made if needed) as name, and returns what an
// update command names it by. A bundle that does not verify is not kept.
func PublishBundle(ctx context.Context, nc *nats.Conn, o StoreOptions, p secureboot.Policy, name string, r io.Reader) (wire.Update, error) {
	probe := wire.Update{Object: name, Version: 1, Size: 1, SHA256: strings.Repeat("0", 64)}
	if err := (wire.Command{Type: wire.CmdUpdate, Seq: 1, Update: &probe}).Validate(); err != nil {
		return wire.Update{}, fmt.Errorf("cloud: bundle name %q: want 1 to 128 characters from A-Z, a-z, 0-9, '_', '-' and '.'", name)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return wire.Update{}, fmt.Errorf("cloud: jetstream: %w", err)
	}
	st := jetstream.FileStorage
	if o.Memory {
		st = jetstream.MemoryStorage
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: wire.BundleBucket, Description: "signed firmware bundles", Storage: st, Replicas: max(o.Replicas, 1),
	})
	if err != nil {
		return wire.Update{}, fmt.Errorf("cloud: bucket %s: %w", wire.BundleBucket, err)
	}
	// Every byte the verifier reads goes on to the store; the store sees
	// the end of the input only once the whole bundle has verified.
	pr, pw := io.Pipe()
	sum := &counted{h: sha256.New()}
	put := make(chan error, 1)
	go func() {
		_, err := obs.Put(ctx, jetstream.ObjectMeta{Name: name, Description: "firmware bundle"}, fullReader{pr})
		pr.CloseWithError(err) // unblocks the verifier if the store gave up
		put <- err
	}()
	m, verr := p.VerifyBundle(io.TeeReader(io.TeeReader(r, sum), pw))
	if verr != nil {
		pw.CloseWithError(verr)
	} else {
		pw.Close()
	}
	perr := <-put
	if verr != nil {
		// Put purges what it stored of an input that failed.
		return wire.Update{}, fmt.Errorf("cloud: bundle %s not published: %w", name, verr)
	}
	if perr != nil {
		return wire.Update{}, fmt.Errorf("cloud: storing bundle %s: %w", name, perr)
	}
	return wire.Update{Object: name, Version: m.Version, Release: m.Release, Size: sum.n, SHA256: hex.EncodeToString(sum.h.Sum(nil))}, nil
}

// fullReader fills each Read as far as its input allows. The object
// store's Put stores what one Read returns as one chunk: through the pipe
// alone that is each of the verifier's writes (8 KiB, not 128), and a
// kiosk then needs 16 times as many messages for a bundle.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// counted hashes and counts what is written to it.
type counted struct {
	h hash.Hash
	n int64
}

func (c *counted) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}
