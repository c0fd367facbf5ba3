package firmware

import (
	"sync"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

// Attempt limits at the kiosk, after NIST SP 800-63B-4 (§3.2.3): at most
// maxFailed consecutive failed biometric attempts, or maxFailedPAD where
// presentation-attack detection ran on each of them, then a delay of
// firstDelay before the next attempt, doubling after each further failure
// up to maxDelay. A success ends the delays and the count.
const (
	maxFailed    = 5
	maxFailedPAD = 10
	firstDelay   = 30 * time.Second
	maxDelay     = 30 * time.Minute
)

// attempts counts a kiosk's consecutive failed biometric attempts. Sessions
// run one at a time, each on its own goroutine: a mutex keeps it simple.
type attempts struct {
	mu sync.Mutex
	// weight is the failures counted, maxFailedPAD/maxFailed units for
	// one without presentation-attack detection and 1 for one with it,
	// so that the limit is maxFailedPAD units either way.
	weight int
	delay  time.Duration // the delay the next failure past the limit sets
	until  time.Time     // no attempt before this
}

// authenticates reports whether a flow's capture is a biometric attempt
// that counts against the limit. Enrolment is not an authentication.
func authenticates(f wire.Flow) bool { return f != wire.FlowEnrol }

// wait returns how long until the next attempt is allowed at now; 0 if it
// is allowed now.
func (a *attempts) wait(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(a.until.Sub(now), 0)
}

// record counts the outcome of one attempt at now; pad tells whether
// presentation-attack detection ran on it. Outcomes that are no
// biometric verdict (retry, declined) leave the count as it is.
func (a *attempts) record(now time.Time, o wire.Outcome, pad bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch o {
	case wire.Approved:
		a.weight, a.delay, a.until = 0, 0, time.Time{}
		return
	case wire.NotRecognized, wire.SpoofRejected:
	default:
		return
	}
	a.weight += maxFailedPAD / maxFailed
	if pad {
		a.weight -= maxFailedPAD/maxFailed - 1
	}
	if a.weight < maxFailedPAD {
		return
	}
	a.delay = min(max(2*a.delay, firstDelay), maxDelay)
	a.until = now.Add(a.delay)
}
