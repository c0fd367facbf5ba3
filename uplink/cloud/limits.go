package cloud

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// attemptLimits are the cloud's attempt limits: a token bucket per kiosk
// (so one kiosk cannot slow the others), and a count of consecutive
// failures per enrolment (NIST SP 800-63B-4 §3.2.3: at most 100, after
// which the enrolment's biometric is disabled until it is enrolled again).
// Both live in each instance's memory.
type attemptLimits struct {
	rate        rate.Limit
	burst       int
	maxFailures int

	mu       sync.Mutex
	kiosks   map[string]*rate.Limiter
	failures map[string]int // subject → consecutive failures
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

// failed counts a failed attempt against subject's enrolment.
func (l *attemptLimits) failed(subject string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures[subject] < l.maxFailures {
		l.failures[subject]++
	}
}

// succeeded resets subject's count: the limit is on consecutive failures.
func (l *attemptLimits) succeeded(subject string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, subject)
}

// disabled reports whether subject's biometric is disabled.
func (l *attemptLimits) disabled(subject string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures[subject] >= l.maxFailures
}

// forget drops what is counted of a deleted enrolment.
func (l *attemptLimits) forget(subject string) { l.succeeded(subject) }
