package sim

import (
	"container/list"
	"sync"

	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/vision/synth"
)

// Cache keeps rendered scenes and frames, so that a process that presents
// the same captures again and again (a test run with -count=20, a demo
// played in a loop) renders each once. A frame is a pure function of its
// capture, its index and the light, so a cached frame is the frame. Safe
// for concurrent use by several worlds.
type Cache struct {
	mu     sync.Mutex
	scenes *lru[synth.Capture, *synth.Scene]
	frames *lru[frameKey, []byte]
}

type frameKey struct {
	capture synth.Capture
	frame   int
	banks   light.Banks
}

// NewCache keeps up to scenes scenes and frames frames (1 MB each at the
// sensor's size), dropping the least recently used.
func NewCache(scenes, frames int) *Cache {
	return &Cache{scenes: newLRU[synth.Capture, *synth.Scene](scenes), frames: newLRU[frameKey, []byte](frames)}
}

// Cached makes the world's camera render through c.
func Cached(c *Cache) Option { return func(w *World) { w.cache = c } }

func (c *Cache) scene(capture synth.Capture) *synth.Scene {
	c.mu.Lock()
	if s, ok := c.scenes.get(capture); ok {
		c.mu.Unlock()
		return s
	}
	c.mu.Unlock()
	s := synth.NewScene(capture) // outside the lock: it takes a while
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scenes.put(capture, s)
	return s
}

// render fills dst from the cache, or draws it and keeps a copy.
func (c *Cache) render(capture synth.Capture, dst []byte, frame int, banks light.Banks, draw func()) {
	k := frameKey{capture, frame, banks}
	c.mu.Lock()
	if f, ok := c.frames.get(k); ok && len(f) == len(dst) {
		copy(dst, f)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	draw()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames.put(k, append([]byte(nil), dst...))
}

// lru is a map that forgets its least recently used entry past max.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // of K, most recent first
	items map[K]*list.Element
	vals  map[K]V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: map[K]*list.Element{}, vals: map[K]V{}}
}

func (l *lru[K, V]) get(k K) (V, bool) {
	e, ok := l.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(e)
	return l.vals[k], true
}

func (l *lru[K, V]) put(k K, v V) {
	if e, ok := l.items[k]; ok {
		l.order.MoveToFront(e)
		l.vals[k] = v
		return
	}
	l.items[k] = l.order.PushFront(k)
	l.vals[k] = v
	for l.order.Len() > l.max {
		old := l.order.Remove(l.order.Back()).(K)
		delete(l.items, old)
		delete(l.vals, old)
	}
}
