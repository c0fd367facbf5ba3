package workspace

import (
	"runtime"
	"unsafe"

	"gocv.io/x/gocv"
)

// align is the alignment of every buffer: a cache line, enough for any
// element type and for OpenCV's SIMD loads.
const align = 64

// Space hands out buffers from one region of memory. It is not safe for
// concurrent use.
type Space struct {
	mem      []byte
	off      int
	need     int
	measure  bool
	fallback int // buffers that did not fit and came from the heap
	pin      runtime.Pinner
}

// New returns a Space over mem, 64-byte aligned, or nil for the heap. mem
// is meant to lie outside the Go heap (the kiosk's locked mapping); Go
// memory (secmem's fallback where memory cannot be mapped) is pinned until
// Release, since OpenCV keeps pointers to it, which the cgo rules allow
// only for pinned Go memory.
func New(mem []byte) *Space {
	s := &Space{mem: mem}
	if len(mem) > 0 {
		s.pin.Pin(&mem[0]) // nothing for memory outside the Go heap
	}
	return s
}

// Release unpins the memory; call it once every buffer taken is closed.
func (s *Space) Release() { s.pin.Unpin() }

// Measure returns a Space that allocates nothing: buffers are empty and
// Need tells how much memory the layout asked for.
func Measure() *Space { return &Space{measure: true} }

// Reset starts the layout again from the start of the memory; the caller
// has zeroed and closed every buffer it took since the last Reset.
func (s *Space) Reset() { s.off, s.need, s.fallback = 0, 0, 0 }

// Need is the number of bytes the buffers taken since the last Reset need.
func (s *Space) Need() int { return s.need }

// Fallbacks is the number of buffers that did not fit in the memory.
func (s *Space) Fallbacks() int { return s.fallback }

// Contains reports whether the n bytes at p lie in the Space's memory.
func (s *Space) Contains(p unsafe.Pointer, n int) bool {
	if len(s.mem) == 0 || p == nil {
		return false
	}
	lo := uintptr(unsafe.Pointer(&s.mem[0]))
	a := uintptr(p)
	return a >= lo && a+uintptr(n) <= lo+uintptr(len(s.mem))
}

// take returns n bytes of the memory, or nil when there is none left.
func (s *Space) take(n int) []byte {
	size := (n + align - 1) / align * align
	s.need += size
	if s.measure {
		return nil
	}
	if n == 0 || s.off+size > len(s.mem) {
		if len(s.mem) > 0 {
			s.fallback++
		}
		return nil
	}
	b := s.mem[s.off : s.off+n : s.off+n]
	s.off += size
	return b
}

// Mat returns a rows x cols image of type t: in the memory when it fits,
// from OpenCV's allocator otherwise, empty when measuring.
func (s *Space) Mat(rows, cols int, t gocv.MatType) gocv.Mat {
	if b := s.take(rows * cols * elemSize(t)); b != nil {
		if m, err := gocv.NewMatFromBytes(rows, cols, t, b); err == nil {
			return m
		}
	}
	if s.measure {
		return gocv.Mat{}
	}
	return gocv.NewMatWithSize(rows, cols, t)
}

// Slice returns n zeroed elements of T: in s's memory when it fits, from
// the Go heap otherwise, nil when measuring.
func Slice[T int32 | uint32 | float32 | uint8](s *Space, n int) []T {
	var zero T
	if b := s.take(n * int(unsafe.Sizeof(zero))); b != nil {
		return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
	}
	if s.measure {
		return nil
	}
	return make([]T, n)
}

// elemSize is the size in bytes of one pixel of t.
func elemSize(t gocv.MatType) int {
	channels := int(t>>3) + 1
	switch t & 7 {
	case gocv.MatTypeCV8U, gocv.MatTypeCV8S:
		return channels
	case gocv.MatTypeCV16U, gocv.MatTypeCV16S:
		return 2 * channels
	case gocv.MatTypeCV64F:
		return 8 * channels
	}
	return 4 * channels // 32-bit integers and floats
}
