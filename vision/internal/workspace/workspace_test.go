package workspace

import (
	"testing"
	"unsafe"

	"gocv.io/x/gocv"
	"golang.org/x/sys/unix"
)

// layout is a component's buffers, as the vision packages lay theirs out.
func layout(s *Space) (gocv.Mat, []float32, []uint8) {
	return s.Mat(10, 30, gocv.MatTypeCV32F), Slice[float32](s, 7), Slice[uint8](s, 100)
}

func TestSpace(t *testing.T) {
	m := Measure()
	layout(m)
	// 1,200 bytes, 28 rounded to 64, 100 rounded to 128.
	if got, want := m.Need(), 1216+64+128; got != want {
		t.Fatalf("Need = %d, want %d", got, want)
	}
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	// Go memory, as secmem's fallback gives: pinned by the Space. A
	// large allocation starts on a page, so it is aligned.
	goMem := make([]byte, 64<<10)
	tests := []struct {
		name      string
		mem       []byte
		inside    [3]bool // the Mat, the float32s, the bytes
		fallbacks int
	}{
		{"enough", mem[:m.Need()], [3]bool{true, true, true}, 0},
		{"the last does not fit", mem[:m.Need()-1], [3]bool{true, true, false}, 1},
		{"too small for the first", mem[:100], [3]bool{false, true, false}, 2},
		{"heap", nil, [3]bool{}, 0},
		{"Go memory", goMem[:m.Need()], [3]bool{true, true, true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.mem)
			defer s.Release()
			mat, f, b := layout(s)
			defer mat.Close()
			p, _ := mat.DataPtrFloat32()
			if len(p) != 300 || len(f) != 7 || len(b) != 100 {
				t.Fatalf("sizes %d, %d, %d; want 300, 7, 100", len(p), len(f), len(b))
			}
			got := [3]bool{
				s.Contains(unsafe.Pointer(&p[0]), 4*len(p)),
				s.Contains(unsafe.Pointer(&f[0]), 4*len(f)),
				s.Contains(unsafe.Pointer(&b[0]), len(b)),
			}
			if got != tt.inside || s.Fallbacks() != tt.fallbacks {
				t.Errorf("in the memory %v, fallbacks %d; want %v, %d", got, s.Fallbacks(), tt.inside, tt.fallbacks)
			}
			for _, a := range []unsafe.Pointer{unsafe.Pointer(&p[0]), unsafe.Pointer(&f[0]), unsafe.Pointer(&b[0])} {
				if s.Contains(a, 1) && uintptr(a)%align != 0 {
					t.Errorf("buffer at %#x not %d-byte aligned", uintptr(a), align)
				}
			}
			s.Reset()
			if s.Need() != 0 || s.Fallbacks() != 0 {
				t.Errorf("after Reset: need %d, fallbacks %d", s.Need(), s.Fallbacks())
			}
		})
	}
}
