package eval

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/synth"
)

// BenchmarkGateAndLiveness measures what the firmware spends per 1280 x 800
// frame on one decision: the gate on GateRun lit frames, then liveness on a
// challenge-response burst. ns/frame divides by the frames read
// (GateRun + BurstFrames).
func BenchmarkGateAndLiveness(b *testing.B) {
	scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf("bench"), Seed: 1})
	gate := make([]*image.Gray, GateRun)
	for k := range gate {
		gate[k] = image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
		scene.RenderFrame(gate[k], 2*k, synth.AllBanks)
	}
	var pattern [liveness.BurstFrames]uint8
	liveness.PatternFrom(rand.NewPCG(1, 2), pattern[:])
	burst := liveness.Burst{Frames: make([]liveness.Frame, liveness.BurstFrames), Black: synth.BlackLevel}
	for i, bk := range pattern {
		img := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
		scene.RenderFrame(img, 2*GateRun+i, synth.Banks(bk))
		burst.Frames[i] = liveness.Frame{Img: img, Banks: bk}
	}
	g := quality.NewGate()
	defer g.Close()
	c := liveness.NewChecker()
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.Reset()
		for _, f := range gate {
			g.CheckAt(f, scene.DistanceMM())
		}
		if !c.CheckBurst(burst).Live {
			b.Fatal("the benchmark burst is not judged live")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(GateRun+liveness.BurstFrames), "ns/frame")
}
