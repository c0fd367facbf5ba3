package match

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"testing"
)

// turned returns img turned by deg degrees about its centre and moved by
// (dx, dy), sampled at the nearest pixel (written apart from resample, so
// that a mistake in it is not undone by the same mistake).
func turned(img *image.Gray, deg float64, dx, dy int) *image.Gray {
	out := image.NewGray(img.Rect)
	a := deg * math.Pi / 180
	c := float64(Size-1) / 2
	for y := range Size {
		for x := range Size {
			u, v := float64(x-dx)-c, float64(y-dy)-c
			sx := int(math.Round(math.Cos(a)*u + math.Sin(a)*v + c))
			sy := int(math.Round(-math.Sin(a)*u + math.Cos(a)*v + c))
			sx, sy = min(max(sx, 0), Size-1), min(max(sy, 0), Size-1)
			out.Pix[y*Size+x] = img.Pix[sy*Size+sx]
		}
	}
	return out
}

// TestPosesRecoverAnOffRegion: a probe region turned or moved further than
// Similarity's translation search no longer matches its palm, and one of
// its poses does; another palm matches at none of them.
func TestPosesRecoverAnOffRegion(t *testing.T) {
	enrol, err := NewTemplate(lines(11, image.Point{}, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		deg    float64
		dx, dy int
	}{
		{8, 0, 0}, {-12, 0, 0}, {-6, 0, 0}, {0, 20, 0}, {0, 0, -20}, {10, 14, 0}, {-4, 0, 18},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v° (%d, %d)", tt.deg, tt.dx, tt.dy), func(t *testing.T) {
			probe := turned(lines(11, image.Point{}, 4, 5), tt.deg, tt.dx, tt.dy)
			poses, err := Poses(probe)
			if err != nil {
				t.Fatal(err)
			}
			if s := Similarity(enrol, poses[0]); s >= Threshold {
				t.Fatalf("the off region itself scores %.3f: this case does not test the poses", s)
			}
			if s := BestOfPoses([]Template{enrol}, poses); s < Threshold {
				t.Errorf("best of the poses %.3f, below Threshold %.2f", s, Threshold)
			}
			other, err := Poses(turned(lines(12, image.Point{}, 4, 5), tt.deg, tt.dx, tt.dy))
			if err != nil {
				t.Fatal(err)
			}
			if s := BestOfPoses([]Template{enrol}, other); s >= Threshold {
				t.Errorf("another palm scores %.3f at its best pose", s)
			}
		})
	}
}

// TestPosesKeepTheRegion: the first pose is the region's own template,
// there are 35, and the region is left as it was.
func TestPosesKeepTheRegion(t *testing.T) {
	region := lines(3, image.Point{}, 4, 1)
	before := bytes.Clone(region.Pix)
	poses, err := Poses(region)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := NewTemplate(region)
	if len(poses) != 35 || poses[0] != own {
		t.Errorf("got %d poses, first the region's own: %v; want 35, first its own", len(poses), poses[0] == own)
	}
	if !bytes.Equal(region.Pix, before) {
		t.Error("Poses changed the region")
	}
	if _, err := Poses(image.NewGray(image.Rect(0, 0, 64, 64))); err == nil {
		t.Error("Poses of a 64 x 64 region: no error")
	}
	if s := BestOfPoses([]Template{own}, nil); s != 0 {
		t.Errorf("BestOfPoses with no poses = %v, want 0", s)
	}
}

// BenchmarkPoses is what a probe that matches nobody costs the cloud to
// code besides its own template (the searches are the index's).
func BenchmarkPoses(b *testing.B) {
	img := lines(1, image.Point{}, 4, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Poses(img); err != nil {
			b.Fatal(err)
		}
	}
}
