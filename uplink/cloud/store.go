package cloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/palmd/palmd/uplink/wire"
)

// JetStream names the cloud uses.
const (
	// EnrolBucket holds one sealed enrolment record per subject pseudonym.
	EnrolBucket = "palm_enrol"
	// RequestBucket holds the signed answer to every request id for
	// 2*MaxAge, so that any instance answers a repeated id the same way.
	RequestBucket = "palm_req"
	// PayBucket holds every payment authorised (and every message id
	// voided), by device and point-of-sale message id: one charge per id
	// across restarts and instances.
	PayBucket = "palm_pay"
	// PendingBucket holds the enrolments begun in the phone app (sealed
	// at rest like enrolments) until a kiosk completes them, for
	// PendingTTL.
	PendingBucket = "palm_pending"
	// FailBucket holds each enrolment's count of consecutive failed
	// attempts (limits.go), by subject.
	FailBucket = "palm_fail"
)

// StoreOptions configure the JetStream buckets and stream Open creates.
type StoreOptions struct {
	// Replicas is the number of servers holding each (1 if 0; 3 in a
	// region's cluster).
	Replicas int
	// Memory keeps them in memory instead of files (the embedded dev
	// server writes nothing to disk).
	Memory bool
}

// opTimeout bounds one JetStream operation made while answering a request.
const opTimeout = 5 * time.Second

type store struct {
	js        jetstream.JetStream
	enrol     jetstream.KeyValue
	req       jetstream.KeyValue
	pending   jetstream.KeyValue
	watch     jetstream.KeyWatcher
	pwatch    jetstream.KeyWatcher // follows pending
	fwatch    jetstream.KeyWatcher // follows FailBucket
	unwatch   context.CancelFunc   // ends the three watchers' context
	consumers sync.Map             // device → struct{}: its command consumer exists
	done      chan struct{}
	c         *Cloud
}

// Open keeps the cloud's state in JetStream on nc: enrolments in
// EnrolBucket (sealed at rest), answered requests in RequestBucket,
// payments in PayBucket, failure counts in FailBucket, pending app
// enrolments in PendingBucket (sealed at rest) and
// queued commands in wire.CommandStream, creating them if needed. It loads
// every stored enrolment into the index before it returns, then keeps the
// index in step with the bucket (enrolments and deletions by any instance)
// until Close. Call it before Subscribe.
func (c *Cloud) Open(ctx context.Context, nc *nats.Conn, o StoreOptions) error {
	if c.store != nil {
		return errors.New("cloud: store already open")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("cloud: jetstream: %w", err)
	}
	st := jetstream.FileStorage
	if o.Memory {
		st = jetstream.MemoryStorage
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	s := &store{js: js, done: make(chan struct{}), c: c}
	// A server that has just started (or just loaded the account) may not
	// have JetStream ready: wait for it as long as ctx allows.
	for {
		s.enrol, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: EnrolBucket, Description: "palmcloud enrolments, sealed", Storage: st, Replicas: o.Replicas,
		})
		if !errors.Is(err, jetstream.ErrJetStreamNotEnabled) && !errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cloud: bucket %s: %w", EnrolBucket, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("cloud: bucket %s: %w", EnrolBucket, err)
	}
	if s.req, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: RequestBucket, Description: "palmcloud answers by request id", Storage: st, Replicas: o.Replicas,
		TTL: 2 * c.cfg.MaxAge,
	}); err != nil {
		return fmt.Errorf("cloud: bucket %s: %w", RequestBucket, err)
	}
	pay, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: PayBucket, Description: "palmcloud payments by device and message id", Storage: st, Replicas: o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("cloud: bucket %s: %w", PayBucket, err)
	}
	if s.pending, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: PendingBucket, Description: "palmcloud enrolments begun in the phone app, sealed", Storage: st,
		Replicas: o.Replicas, TTL: PendingTTL,
	}); err != nil {
		return fmt.Errorf("cloud: bucket %s: %w", PendingBucket, err)
	}
	fail, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: FailBucket, Description: "palmcloud consecutive failures by enrolment", Storage: st, Replicas: o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("cloud: bucket %s: %w", FailBucket, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: wire.CommandStream, Description: "palmcloud commands queued for kiosks",
		Subjects: []string{wire.CommandQueueSubject("*", "*")}, Retention: jetstream.WorkQueuePolicy,
		MaxAge: c.cfg.CommandTTL, Storage: st, Replicas: o.Replicas,
	}); err != nil {
		return fmt.Errorf("cloud: stream %s: %w", wire.CommandStream, err)
	}
	// nats.go waits for the end of a watcher's context in a goroutine of
	// its own, which Stop does not end: the watchers' context ends with
	// Close, or here if Open fails.
	watchCtx, unwatch := context.WithCancel(context.Background())
	defer func() {
		if c.store != s {
			unwatch()
		}
	}()
	s.unwatch = unwatch
	if s.watch, err = s.enrol.WatchAll(watchCtx); err != nil {
		return fmt.Errorf("cloud: watch %s: %w", EnrolBucket, err)
	}
	if err := load(ctx, s.watch, s.apply); err != nil {
		s.watch.Stop()
		return fmt.Errorf("cloud: loading enrolments: %w", err)
	}
	if s.pwatch, err = s.pending.WatchAll(watchCtx); err != nil {
		s.watch.Stop()
		return fmt.Errorf("cloud: watch %s: %w", PendingBucket, err)
	}
	if err := load(ctx, s.pwatch, s.applyPending); err != nil {
		s.watch.Stop()
		s.pwatch.Stop()
		return fmt.Errorf("cloud: loading pending enrolments: %w", err)
	}
	c.limits.useBucket(fail, c.log)
	if s.fwatch, err = fail.WatchAll(watchCtx); err != nil {
		s.watch.Stop()
		s.pwatch.Stop()
		return fmt.Errorf("cloud: watch %s: %w", FailBucket, err)
	}
	if err := load(ctx, s.fwatch, c.limits.apply); err != nil {
		s.watch.Stop()
		s.pwatch.Stop()
		s.fwatch.Stop()
		return fmt.Errorf("cloud: loading failure counts: %w", err)
	}
	c.store = s
	c.ledger.mu.Lock()
	c.ledger.kv = pay
	c.ledger.mu.Unlock()
	c.log.Info("cloud: enrolments loaded", "enrolled", c.Enrolled())
	go s.follow()
	return nil
}

// load applies w's initial values, which end with a nil entry.
func load(ctx context.Context, w jetstream.KeyWatcher, apply func(jetstream.KeyValueEntry)) error {
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return nil
			}
			apply(e)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops following the enrolment, pending and failure buckets.
func (c *Cloud) Close() {
	if c.store != nil {
		c.store.watch.Stop()
		c.store.pwatch.Stop()
		c.store.fwatch.Stop()
		c.store.unwatch()
		<-c.store.done
	}
}

func (s *store) follow() {
	defer close(s.done)
	enrol, pending, fail := s.watch.Updates(), s.pwatch.Updates(), s.fwatch.Updates()
	for enrol != nil || pending != nil || fail != nil {
		select {
		case e, ok := <-fail:
			if !ok {
				fail = nil
			} else if e != nil {
				s.c.limits.apply(e)
			}
		case e, ok := <-enrol:
			if !ok {
				enrol = nil
			} else if e != nil {
				s.apply(e)
			}
		case e, ok := <-pending:
			if !ok {
				pending = nil
			} else if e != nil {
				s.applyPending(e)
			}
		}
	}
}

// applyPending brings the pending enrolments in step with one change of
// PendingBucket.
func (s *store) applyPending(e jetstream.KeyValueEntry) {
	c := s.c
	switch e.Operation() {
	case jetstream.KeyValuePut:
		r, err := c.rest.open(e.Key(), e.Value())
		if err != nil || len(r.palms) != 1 {
			c.log.Error("cloud: stored pending enrolment skipped", "id", e.Key(), "err", err)
			return
		}
		c.mu.Lock()
		if old, ok := c.pending[e.Key()]; !ok || old.rev < e.Revision() {
			c.pending[e.Key()] = pendingEnrolment{tmpl: r.palms[0], f: factors{phone: r.phone, card: r.card}, at: e.Created(), rev: e.Revision()}
		}
		c.mu.Unlock()
	case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
		c.mu.Lock()
		delete(c.pending, e.Key())
		c.mu.Unlock()
	}
}

// putPending stores a pending enrolment and returns its revision.
func (s *store) putPending(id string, sealed []byte) (uint64, error) {
	if s == nil {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return s.pending.Put(ctx, id, sealed)
}

// takePending deletes the pending enrolment id if it is still at revision
// rev: of several instances completing it at once, one succeeds.
func (s *store) takePending(id string, rev uint64) error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return s.pending.Delete(ctx, id, jetstream.LastRevision(rev))
}

// apply brings the index in step with one change of the bucket.
func (s *store) apply(e jetstream.KeyValueEntry) {
	c := s.c
	switch e.Operation() {
	case jetstream.KeyValuePut:
		r, err := c.rest.open(e.Key(), e.Value())
		if err != nil {
			c.log.Error("cloud: stored enrolment skipped", "subject", e.Key(), "err", err)
			return
		}
		c.add(e.Key(), r.palms, factors{phone: r.phone, card: r.card})
		if !r.born.IsZero() {
			c.mu.Lock()
			c.births[e.Key()] = r.born
			c.mu.Unlock()
		}
	case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
		c.remove(e.Key())
	}
}

// setBorn stores subject's birth date in its enrolment record: read,
// reseal with the date, and write back at the revision read, so that a
// concurrent change by another instance is read again, not overwritten.
func (s *store) setBorn(subject string, born time.Time) error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for {
		e, err := s.enrol.Get(ctx, subject)
		if err != nil {
			return err
		}
		r, err := s.c.rest.open(subject, e.Value())
		if err != nil {
			return err
		}
		r.born = born
		_, err = s.enrol.Update(ctx, subject, s.c.rest.seal(subject, r), e.Revision())
		if !errors.Is(err, jetstream.ErrKeyExists) || ctx.Err() != nil {
			return err
		}
	}
}

func (s *store) put(subject string, sealed []byte) error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.enrol.Create(ctx, subject, sealed)
	return err
}

func (s *store) delete(subject string) error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return s.enrol.Delete(ctx, subject)
}

// requestKey is the bucket key of a device/request id: a hash, since ids
// may hold characters keys may not.
func requestKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:20])
}

// answered returns the reply stored for key by any instance.
func (s *store) answered(key string) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	e, err := s.req.Get(ctx, requestKey(key))
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.c.log.Warn("cloud: answered requests unavailable", "err", err)
		}
		return nil, false
	}
	return e.Value(), true
}

// remember stores reply as the answer to key, waiting at most wait, and
// returns the answer to send: reply, or the one another instance stored
// first.
func (s *store) remember(key string, reply []byte) []byte {
	if s == nil {
		return reply
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.req.Create(ctx, requestKey(key), reply)
	if errors.Is(err, jetstream.ErrKeyExists) {
		if e, gerr := s.req.Get(ctx, requestKey(key)); gerr == nil {
			return e.Value()
		}
	} else if err != nil {
		s.c.log.Warn("cloud: answer not stored", "err", err)
	}
	return reply
}
