package eval

import (
	"image"
	"testing"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/synth"
)

// BenchmarkGateAndLiveness measures what the firmware spends per 1280 x 800
// frame on one decision: the gate on every lit frame of a burst, then
// liveness on the burst. ns/frame divides by the burst's 2 x BurstPairs
// frames.
func BenchmarkGateAndLiveness(b *testing.B) {
	scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf("bench"), Seed: 1})
	burst := make([]liveness.Pair, liveness.BurstPairs)
	for k := range burst {
		burst[k] = liveness.Pair{Lit: image.NewGray(image.Rect(0, 0, synth.Width, synth.Height)), Unlit: image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))}
		scene.Render(burst[k].Lit, k, true)
		scene.Render(burst[k].Unlit, k, false)
	}
	g := quality.NewGate()
	defer g.Close()
	c := liveness.NewChecker()
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.Reset()
		for _, p := range burst {
			g.Check(p.Lit)
		}
		if !c.Check(burst).Live {
			b.Fatal("the benchmark burst is not judged live")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*len(burst)), "ns/frame")
}
