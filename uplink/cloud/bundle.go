package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/palmd/palmd/uplink/wire"
)

// bundleChunks is how many chunks a bundle reply asks the bucket for: as
// many of the object store's 128 KiB chunks as wire.MaxBundleReply holds.
const bundleChunks = wire.MaxBundleReply / (128 << 10)

// numPendingHeader is how many messages on the subject follow this one,
// in a batched direct get's reply (nats-server's JSNumPending).
const numPendingHeader = "Nats-Num-Pending"

// bundleTimeout bounds the bucket reads of one bundle request.
const bundleTimeout = 10 * time.Second

// bundleWorkers is how many bundle requests one instance answers at once.
// A request mostly waits on the bucket (a lookup, then a batched direct
// get of up to bundleChunks chunks), so kiosks updating together are
// answered side by side rather than in turn; more instances in the queue
// group add more.
const bundleWorkers = 8

// Bundles is one instance's bundle service (ServeBundles): its
// subscription, and the workers answering what it received.
type Bundles struct {
	*nats.Subscription
	wg sync.WaitGroup
}

// Wait waits, once the subscription has ended (unsubscribed, drained or
// closed), until every request it received is answered.
func (b *Bundles) Wait() { b.wg.Wait() }

// ServeBundles answers kiosks' bundle requests (wire.BundleRequest on
// wire.AllBundles), in the queue group Queue, until the subscription is
// unsubscribed, drained or closed: it reads the next chunks of the named
// bundle from the object store wire.BundleBucket with one batched direct
// get and replies with them, on the asking kiosk's own inbox only
// (wire.ReplyAllowed). Kiosks may not read the bucket themselves (see
// wire.DevicePermissions). Up to bundleWorkers requests are answered at
// once; more wait in the subscription's own buffer. A nil log logs
// nothing.
func ServeBundles(nc *nats.Conn, log *slog.Logger) (*Bundles, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cloud: bundles: %w", err)
	}
	b, err := serveQueue(nc, wire.AllBundles, bundleWorkers, func(m *nats.Msg) { serveBundle(js, m, log) })
	if err != nil {
		return nil, fmt.Errorf("cloud: bundles: %w", err)
	}
	return b, nil
}

// serveQueue subscribes to subject in the queue group Queue and hands each
// message to one of workers goroutines running handle. The subscription's
// callback waits while every worker is busy, so messages queue in the
// subscription (up to its pending limits), not in memory of their own.
func serveQueue(nc *nats.Conn, subject string, workers int, handle func(*nats.Msg)) (*Bundles, error) {
	msgs := make(chan *nats.Msg)
	sub, err := nc.QueueSubscribe(subject, Queue, func(m *nats.Msg) { msgs <- m })
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	// Called once the subscription's callbacks are over: no more sends.
	sub.SetClosedHandler(func(string) { close(msgs) })
	b := &Bundles{Subscription: sub}
	b.wg.Add(workers)
	for range workers {
		go func() {
			defer b.wg.Done()
			for m := range msgs {
				handle(m)
			}
		}()
	}
	if err := nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return b, nil
}

func serveBundle(js jetstream.JetStream, m *nats.Msg, log *slog.Logger) {
	device, ok := wire.ParseBundleSubject(m.Subject)
	if !ok || !wire.ReplyAllowed(device, m.Reply) {
		log.Warn("cloud: bundle request refused: its reply subject is not the kiosk's inbox", "device", device)
		return
	}
	reply := nats.NewMsg(m.Reply)
	fail := func(why string, err error) {
		log.Warn("cloud: bundle request failed", "device", device, "why", why, "err", err)
		reply.Header.Set(wire.BundleErrorHeader, why)
		if err := m.RespondMsg(reply); err != nil {
			log.Warn("cloud: bundle reply failed", "device", device, "err", err)
		}
	}
	req, err := wire.DecodeBundleRequest(m.Data)
	if err != nil {
		fail("malformed request: want {\"object\": name, \"from\": sequence}", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), bundleTimeout)
	defer cancel()
	obs, err := js.ObjectStore(ctx, wire.BundleBucket)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		fail("no bundle bucket", err)
		return
	case err != nil:
		fail(wire.BundleUnavailable, err)
		return
	}
	info, err := obs.GetInfo(ctx, req.Object)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		fail("no such bundle", err)
		return
	case err != nil:
		fail(wire.BundleUnavailable, err)
		return
	case !wire.ValidObjectID(info.NUID):
		fail("bundle stored under an id that is not a subject token", nil)
		return
	}
	msgs, err := jetstreamext.GetBatch(ctx, js, wire.BundleStream, bundleChunks,
		jetstreamext.GetBatchSeq(max(req.From, 1)), jetstreamext.GetBatchSubject(wire.BundleChunkSubject(info.NUID)))
	if err != nil {
		fail(wire.BundleUnavailable, err)
		return
	}
	// Made at its full size: one allocation, not one per chunk appended.
	reply.Data = make([]byte, 0, wire.MaxBundleReply)
	var next uint64 // where the kiosk asks from next; 0 once this reply ends the bundle
	ended := false  // the bucket said there was nothing more
	for c, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			ended = true
			break
		}
		if err != nil {
			fail(wire.BundleUnavailable, err)
			return
		}
		if len(reply.Data)+len(c.Data) > wire.MaxBundleReply {
			if len(reply.Data) == 0 {
				fail("bundle chunk larger than a reply", nil)
				return
			}
			next = c.Sequence
			break
		}
		reply.Data = append(reply.Data, c.Data...)
		next = 0
		if c.Header.Get(numPendingHeader) != "0" {
			next = c.Sequence + 1
		}
	}
	if len(reply.Data) == 0 && !ended {
		fail(wire.BundleUnavailable, ctx.Err()) // the batch timed out before any chunk came
		return
	}
	if next != 0 {
		reply.Header.Set(wire.BundleNextHeader, strconv.FormatUint(next, 10))
	}
	if err := m.RespondMsg(reply); err != nil {
		log.Warn("cloud: bundle reply failed", "device", device, "err", err)
	}
}
