package downscale

import (
	"image"
	"testing"
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
			d := New(image.Pt(1280, 800), tt.width)
			defer d.Close()
			d.Fit(tt.frame.Size())
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
			for _, v := range d.fullPix {
				if v != 0 {
					t.Fatal("full-size copy not zeroed after Do")
				}
			}
		})
	}
}

func TestFitReportsReallocation(t *testing.T) {
	d := New(image.Pt(1280, 800), 320)
	defer d.Close()
	if d.Fit(image.Pt(1280, 800)) {
		t.Error("Fit with the same size reallocated")
	}
	if !d.Fit(image.Pt(640, 400)) {
		t.Error("Fit with a new size did not reallocate")
	}
}

func BenchmarkDo(b *testing.B) {
	d := New(image.Pt(1280, 800), 320)
	defer d.Close()
	f := image.NewGray(image.Rect(0, 0, 1280, 800))
	b.ReportAllocs()
	for b.Loop() {
		d.Do(f)
	}
}
