package synth

import (
	"image"
	"testing"
)

func BenchmarkNewScene(b *testing.B) {
	for _, p := range []Presentation{Genuine, PrintedPhoto, ScreenReplay, RigidReplica} {
		b.Run(p.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				NewScene(Capture{Identity: 7, Seed: uint64(i), Presentation: p})
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	s := NewScene(Capture{Identity: 7, Seed: 1})
	dst := image.NewGray(image.Rect(0, 0, Width, Height))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Render(dst, i, i%2 == 0)
	}
}
