package replay

import (
	"errors"
	"sync"
	"time"
)

// ErrFull reports a window holding its maximum number of identifiers, none
// of them expired yet.
var ErrFull = errors.New("replay: window full")

// Window remembers identifiers, each with a value, for TTL after they were
// added. It is safe for concurrent use.
type Window[V any] struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	seen map[string]V
	q    []entry // in insertion order, so in order of expiry; q[head:] is live
	head int
	last time.Time // latest time seen, so a clock stepping back keeps the order
}

type entry struct {
	key   string
	until time.Time
}

// New returns a window remembering each identifier for ttl, at most max at
// a time.
func New[V any](ttl time.Duration, max int) *Window[V] {
	return &Window[V]{ttl: ttl, max: max, seen: make(map[string]V)}
}

// Add records key with value v at time now. If key is already in the
// window it returns the value recorded with it and false; otherwise true.
// It returns ErrFull, recording nothing, when the window holds max
// identifiers that have not expired.
func (w *Window[V]) Add(key string, v V, now time.Time) (V, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.After(w.last) {
		w.last = now
	}
	w.expire()
	if prev, ok := w.seen[key]; ok {
		return prev, false, nil
	}
	if len(w.seen) >= w.max {
		var zero V
		return zero, false, ErrFull
	}
	w.seen[key] = v
	w.q = append(w.q, entry{key: key, until: w.last.Add(w.ttl)})
	return v, true, nil
}

// Set replaces the value of key if key is in the window.
func (w *Window[V]) Set(key string, v V) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.seen[key]; ok {
		w.seen[key] = v
	}
}

// Len returns the number of identifiers held.
func (w *Window[V]) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen)
}

// expire forgets the identifiers whose time is up, from the front of the
// queue. w.mu must be held.
func (w *Window[V]) expire() {
	for w.head < len(w.q) && !w.q[w.head].until.After(w.last) {
		delete(w.seen, w.q[w.head].key)
		w.q[w.head] = entry{}
		w.head++
	}
	// Reuse the front of the slice once half of it is dead.
	if w.head > 64 && w.head*2 >= len(w.q) {
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:])
		w.q, w.head = w.q[:n], 0
	}
}
