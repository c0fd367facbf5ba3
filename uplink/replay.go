package uplink

import "sync"

// replayCache remembers the nonces of recently accepted statements. It is
// bounded: when full it forgets the oldest nonce. Since statements are only
// valid for Options.MaxValidity, a cache that holds more nonces than the
// cloud sends in that window cannot be bypassed.
type replayCache struct {
	mu    sync.Mutex
	seen  map[string]struct{}
	order []string // ring of nonces, oldest at next
	next  int
}

func newReplayCache(size int) *replayCache {
	return &replayCache{seen: make(map[string]struct{}, size), order: make([]string, size)}
}

// add records nonce and reports whether it was new.
func (r *replayCache) add(nonce string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[nonce]; ok {
		return false
	}
	if old := r.order[r.next]; old != "" {
		delete(r.seen, old)
	}
	r.order[r.next] = nonce
	r.next = (r.next + 1) % len(r.order)
	r.seen[nonce] = struct{}{}
	return true
}
