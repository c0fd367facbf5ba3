package secmem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// ErrClosed reports a Get on a closed pool.
var ErrClosed = errors.New("secmem: pool closed")

// Pool hands out fixed-size buffers carved from one anonymous memory
// mapping, locked into RAM and excluded from core dumps where the OS allows.
// The garbage collector never moves or copies them. Buffers are zeroed when
// released and when the pool is closed.
type Pool struct {
	size   int
	mem    []byte
	locked bool
	free   chan []byte // the memory of the buffers not handed out
	sys    memory

	mu     sync.Mutex
	closed bool
}

// memory is the seam for the system calls: the real one maps, locks and
// marks memory; tests substitute failures.
type memory interface {
	alloc(n int) ([]byte, error)
	lock(b []byte) error
	free(b []byte) error
}

// NewPool maps count buffers of size bytes each. When the memory cannot be
// locked (RLIMIT_MEMLOCK, no privilege) it logs one warning and works
// unlocked; Locked reports which.
func NewPool(size, count int, log *slog.Logger) (*Pool, error) {
	return newPool(size, count, log, osMemory{})
}

func newPool(size, count int, log *slog.Logger, sys memory) (*Pool, error) {
	if size <= 0 || count <= 0 {
		return nil, fmt.Errorf("secmem: bad pool shape %d x %d", count, size)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mem, err := sys.alloc(size * count)
	if err != nil {
		return nil, fmt.Errorf("secmem: %w", err)
	}
	p := &Pool{size: size, mem: mem, free: make(chan []byte, count), sys: sys}
	if err := sys.lock(mem); err != nil {
		log.Warn("secmem: cannot lock buffers in memory; they may be swapped out", "bytes", len(mem), "err", err)
	} else {
		p.locked = true
	}
	for i := range count {
		p.free <- mem[i*size : (i+1)*size : (i+1)*size]
	}
	return p, nil
}

// Size is the length of every buffer.
func (p *Pool) Size() int { return p.size }

// Locked reports whether the buffers are locked in RAM.
func (p *Pool) Locked() bool { return p.locked }

// Get returns a free zeroed buffer, waiting for one until ctx is done.
func (p *Pool) Get(ctx context.Context) (*Buffer, error) {
	select {
	case b, ok := <-p.free:
		if !ok {
			return nil, ErrClosed
		}
		// A new handle each time: a stale handle's Release stays a no-op.
		return &Buffer{b: b, pool: p}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("secmem: %w", ctx.Err())
	}
}

// Close zeroes and unmaps every buffer. Buffers still held must not be used
// afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.free)
	for range p.free { // drop the free buffers so Get sees ErrClosed
	}
	clear(p.mem)
	if err := p.sys.free(p.mem); err != nil {
		return fmt.Errorf("secmem: %w", err)
	}
	return nil
}

// put zeroes b and returns it to the free list. After Close the memory is
// already zeroed and unmapped: touching it would fault.
func (p *Pool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	clear(b)
	p.free <- b
}

// Buffer is one pooled buffer. Printing or encoding it shows only its
// length, never its bytes.
type Buffer struct {
	b        []byte
	pool     *Pool
	released bool
}

// Bytes returns the whole buffer. The slice must not be kept after Release.
func (b *Buffer) Bytes() []byte { return b.b }

// Release zeroes the buffer and returns it to its pool. Releasing twice,
// even after the memory was handed out again, or after the pool is closed,
// is harmless.
func (b *Buffer) Release() {
	if b.released {
		return
	}
	b.released = true
	b.pool.put(b.b)
}

func (b *Buffer) redacted() string { return fmt.Sprintf("[redacted %d bytes]", len(b.b)) }

// String implements fmt.Stringer without revealing the contents.
func (b *Buffer) String() string { return b.redacted() }

// GoString implements fmt.GoStringer without revealing the contents.
func (b *Buffer) GoString() string { return b.redacted() }

// Format implements fmt.Formatter: every verb prints the redacted form.
func (b *Buffer) Format(f fmt.State, _ rune) { fmt.Fprint(f, b.redacted()) }

// MarshalJSON encodes the redacted form.
func (b *Buffer) MarshalJSON() ([]byte, error) { return []byte(`"` + b.redacted() + `"`), nil }

// LogValue implements slog.LogValuer with the redacted form.
func (b *Buffer) LogValue() slog.Value { return slog.StringValue(b.redacted()) }
