package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"golang.org/x/time/rate"
)

// attemptLimits are the cloud's attempt limits: a token bucket per kiosk
// (so one kiosk cannot slow the others), and a count of consecutive
// failures per enrolment (NIST SP 800-63B-4 §3.2.3: at most 100, after
// which the enrolment's biometric is disabled until it is enrolled again).
// The token buckets live in each instance's memory. Once the store is open
// (Open) the failure counts live in FailBucket, so a restart forgets none,
// and each instance reads them from memory kept in step by watching the
// bucket: checking a count costs no round trip, and no lock is held
// across one. A count another instance changed a moment ago may be seen a
// moment late (a failure or reset more or less, of up to 100).
type attemptLimits struct {
	rate        rate.Limit
	burst       int
	maxFailures int

	kmu    sync.Mutex
	kiosks map[string]*rate.Limiter

	mu       sync.Mutex
	failures map[string]failCount // by subject: the bucket's, or the only count without one
	kv       jetstream.KeyValue   // FailBucket, once the store is open
	log      *slog.Logger
}

// failCount is an enrolment's count of consecutive failures and the
// bucket revision it was read at (0 without a bucket).
type failCount struct {
	n   int
	rev uint64
}

func newAttemptLimits(cfg Config) attemptLimits {
	return attemptLimits{rate: cfg.KioskRate, burst: cfg.KioskBurst, maxFailures: cfg.MaxFailures,
		kiosks: map[string]*rate.Limiter{}, failures: map[string]failCount{}}
}

// allow takes one request from device's bucket at now. Devices are named
// by their NATS permissions, so the map holds at most the fleet.
func (l *attemptLimits) allow(device string, now time.Time) bool {
	l.kmu.Lock()
	defer l.kmu.Unlock()
	lim, ok := l.kiosks[device]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.kiosks[device] = lim
	}
	return lim.AllowN(now, 1)
}

// useBucket keeps the failure counts in kv from now on (Open); the store
// feeds its changes to apply.
func (l *attemptLimits) useBucket(kv jetstream.KeyValue, log *slog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kv, l.log = kv, log
}

// apply brings the counts in step with one change of FailBucket. A change
// older than the count held (this instance wrote a newer one) is ignored.
func (l *attemptLimits) apply(e jetstream.KeyValueEntry) {
	c := failCount{rev: e.Revision()}
	if e.Operation() == jetstream.KeyValuePut {
		n, err := strconv.Atoi(string(e.Value()))
		if err != nil {
			l.log.Error("cloud: stored failure count skipped", "subject", e.Key(), "err", err)
			return
		}
		c.n = n
	}
	l.set(e.Key(), c)
}

// set records c as subject's count unless a newer one is held.
func (l *attemptLimits) set(subject string, c failCount) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.failures[subject]; ok && old.rev > c.rev {
		return
	}
	l.failures[subject] = c
}

// count returns subject's count and whether a bucket holds the counts.
func (l *attemptLimits) count(subject string) (failCount, jetstream.KeyValue) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures[subject], l.kv
}

// failed counts a failed attempt against subject's enrolment.
func (l *attemptLimits) failed(subject string) {
	c, kv := l.count(subject)
	if kv == nil {
		l.set(subject, failCount{n: min(c.n+1, l.maxFailures)})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for range 5 { // another instance may count at the same moment
		n, rev, err := l.stored(ctx, kv, subject)
		if err != nil {
			break
		}
		if n >= l.maxFailures {
			return
		}
		v := []byte(strconv.Itoa(n + 1))
		if rev == 0 {
			rev, err = kv.Create(ctx, subject, v)
		} else {
			rev, err = kv.Update(ctx, subject, v, rev)
		}
		if err == nil {
			l.set(subject, failCount{n: n + 1, rev: rev})
			return
		}
	}
	l.log.Error("cloud: failure not counted", "subject", subject)
}

// stored reads subject's count from kv and its revision (0: none).
func (l *attemptLimits) stored(ctx context.Context, kv jetstream.KeyValue, subject string) (n int, rev uint64, err error) {
	e, err := kv.Get(ctx, subject)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if n, err = strconv.Atoi(string(e.Value())); err != nil {
		return 0, 0, fmt.Errorf("cloud: stored failure count: %w", err)
	}
	return n, e.Revision(), nil
}

// succeeded resets subject's count: the limit is on consecutive failures.
// A count already 0 costs nothing.
func (l *attemptLimits) succeeded(subject string) {
	c, kv := l.count(subject)
	if c.n == 0 {
		return
	}
	if kv == nil {
		l.set(subject, failCount{})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := kv.Purge(ctx, subject); err != nil {
		l.log.Error("cloud: failures not reset", "subject", subject, "err", err)
	}
	// The purge's revision is not returned: the watch brings it.
}

// disabled reports whether subject's biometric is disabled.
func (l *attemptLimits) disabled(subject string) bool {
	c, _ := l.count(subject)
	return c.n >= l.maxFailures
}

// forget drops what is counted of a deleted enrolment.
func (l *attemptLimits) forget(subject string) { l.succeeded(subject) }
