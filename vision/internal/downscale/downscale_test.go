package downscale

import (
	"image"
	"slices"
	"testing"
	"unsafe"

	"github.com/palmd/palmd/vision/internal/workspace"
	"golang.org/x/sys/unix"
)

func TestDo(t *testing.T) {
	tests := []struct {
		name  string
		frame image.Rectangle
		width int
		small image.Point
	}{
		{"sensor", image.Rect(0, 0, 1280, 800), 320, image.Pt(320, 200)},
		{"odd size", image.Rect(0, 0, 1001, 601), 320, image.Pt(320, 192)},
		{"already small", image.Rect(0, 0, 320, 200), 320, image.Pt(320, 200)},
		{"offset bounds", image.Rect(5, 7, 645, 407), 320, image.Pt(320, 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A frame whose left half is 200 and right half 40: the box
			// average keeps both levels away from the border between them.
			f := image.NewGray(tt.frame)
			for y := tt.frame.Min.Y; y < tt.frame.Max.Y; y++ {
				for x := tt.frame.Min.X; x < tt.frame.Max.X; x++ {
					v := uint8(40)
					if x-tt.frame.Min.X < tt.frame.Dx()/2 {
						v = 200
					}
					f.Pix[f.PixOffset(x, y)] = v
				}
			}
			d := New(workspace.New(nil), tt.frame.Size(), tt.width)
			defer d.Close()
			if got := d.Small(); got != tt.small {
				t.Fatalf("Small = %v, want %v", got, tt.small)
			}
			m := d.Do(f)
			pix, err := m.DataPtrUint8()
			if err != nil {
				t.Fatal(err)
			}
			w := tt.small.X
			row := pix[(tt.small.Y/2)*w : (tt.small.Y/2+1)*w]
			if row[2] != 200 || row[w-3] != 40 {
				t.Errorf("row ends = %d, %d; want 200, 40", row[2], row[w-3])
			}
		})
	}
}

// TestSubImage: a frame whose rows are not contiguous downscales as the
// same pixels held contiguously do, and Do leaves both frames as they were.
func TestSubImage(t *testing.T) {
	big := image.NewGray(image.Rect(0, 0, 1400, 900))
	for i := range big.Pix {
		big.Pix[i] = uint8(i*7 + i/1400)
	}
	r := image.Rect(60, 50, 1340, 850)
	sub := big.SubImage(r).(*image.Gray)
	flat := image.NewGray(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(flat.Pix[flat.PixOffset(r.Min.X, y):flat.PixOffset(r.Max.X, y)], big.Pix[big.PixOffset(r.Min.X, y):big.PixOffset(r.Max.X, y)])
	}
	before := slices.Clone(big.Pix)
	d := New(workspace.New(nil), r.Size(), 320)
	defer d.Close()
	m := d.Do(sub)
	got, _ := m.DataPtrUint8()
	got = slices.Clone(got)
	m = d.Do(flat)
	want, _ := m.DataPtrUint8()
	if !slices.Equal(got, want) {
		t.Error("a sub-image downscales unlike the same pixels held contiguously")
	}
	if !slices.Equal(big.Pix, before) {
		t.Error("Do changed the frame")
	}
}

// TestWorkspace: with memory of the size Measure asks for, every buffer
// lives in it, and after Do only the downscaled copy is not zero.
func TestWorkspace(t *testing.T) {
	size := image.Pt(1280, 800)
	m := workspace.Measure()
	New(m, size, 320)
	mem, err := unix.Mmap(-1, 0, m.Need(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	s := workspace.New(mem)
	d := New(s, size, 320)
	defer d.Close()
	if s.Fallbacks() != 0 || s.Need() != m.Need() {
		t.Fatalf("%d buffers outside the workspace; need %d, measured %d", s.Fallbacks(), s.Need(), m.Need())
	}
	f := image.NewGray(image.Rectangle{Max: size})
	for i := range f.Pix {
		f.Pix[i] = uint8(1 + i%200)
	}
	small := d.Do(f)
	pix, _ := small.DataPtrUint8()
	if !s.Contains(unsafe.Pointer(&pix[0]), len(pix)) {
		t.Fatal("the downscaled copy is not in the workspace")
	}
	nonzero := 0
	for _, v := range mem {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero == 0 || nonzero > len(pix) {
		t.Errorf("%d bytes of the workspace not zero after Do, want 1 .. %d (the downscaled copy)", nonzero, len(pix))
	}
	d.Clear()
	for i, v := range mem {
		if v != 0 {
			t.Fatalf("workspace byte %d not zero after Clear", i)
		}
	}
}

func BenchmarkDo(b *testing.B) {
	d := New(workspace.New(nil), image.Pt(1280, 800), 320)
	defer d.Close()
	f := image.NewGray(image.Rect(0, 0, 1280, 800))
	b.ReportAllocs()
	for b.Loop() {
		d.Do(f)
	}
}
