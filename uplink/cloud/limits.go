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
// The token buckets live in each instance's memory; the failure counts in
// FailBucket once the store is open (Open), so a restart forgets none.
type attemptLimits struct {
	rate        rate.Limit
	burst       int
	maxFailures int

	mu       sync.Mutex
	kiosks   map[string]*rate.Limiter
	failures map[string]int     // subject → consecutive failures (without a bucket)
	kv       jetstream.KeyValue // FailBucket, once the store is open
	log      *slog.Logger
}

func newAttemptLimits(cfg Config) attemptLimits {
	return attemptLimits{rate: cfg.KioskRate, burst: cfg.KioskBurst, maxFailures: cfg.MaxFailures,
		kiosks: map[string]*rate.Limiter{}, failures: map[string]int{}}
}

// allow takes one request from device's bucket at now. Devices are named
// by their NATS permissions, so the map holds at most the fleet.
func (l *attemptLimits) allow(device string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.kiosks[device]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.kiosks[device] = lim
	}
	return lim.AllowN(now, 1)
}

// useBucket keeps the failure counts in kv from now on (Open).
func (l *attemptLimits) useBucket(kv jetstream.KeyValue, log *slog.Logger) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.kv, l.log = kv, log
}

// failed counts a failed attempt against subject's enrolment.
func (l *attemptLimits) failed(subject string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kv == nil {
		if l.failures[subject] < l.maxFailures {
			l.failures[subject]++
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for range 5 { // another instance may count at the same moment
		n, rev, err := l.stored(ctx, subject)
		if err != nil {
			break
		}
		if n >= l.maxFailures {
			return
		}
		v := []byte(strconv.Itoa(n + 1))
		if rev == 0 {
			_, err = l.kv.Create(ctx, subject, v)
		} else {
			_, err = l.kv.Update(ctx, subject, v, rev)
		}
		if err == nil {
			return
		}
	}
	l.log.Error("cloud: failure not counted", "subject", subject)
}

// stored reads subject's count from the bucket and its revision (0: none).
func (l *attemptLimits) stored(ctx context.Context, subject string) (n int, rev uint64, err error) {
	e, err := l.kv.Get(ctx, subject)
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
func (l *attemptLimits) succeeded(subject string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, subject)
	if l.kv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, rev, err := l.stored(ctx, subject); err == nil && rev != 0 {
		if err := l.kv.Purge(ctx, subject); err != nil {
			l.log.Error("cloud: failures not reset", "subject", subject, "err", err)
		}
	}
}

// disabled reports whether subject's biometric is disabled. A count that
// cannot be read disables nothing (and is logged).
func (l *attemptLimits) disabled(subject string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kv == nil {
		return l.failures[subject] >= l.maxFailures
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	n, _, err := l.stored(ctx, subject)
	if err != nil {
		l.log.Error("cloud: failures unavailable", "subject", subject, "err", err)
	}
	return n >= l.maxFailures
}

// forget drops what is counted of a deleted enrolment.
func (l *attemptLimits) forget(subject string) { l.succeeded(subject) }
