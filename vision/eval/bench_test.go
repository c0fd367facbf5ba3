package eval

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/synth"
	"golang.org/x/sys/unix"
)

// BenchmarkGateAndLiveness measures what the firmware spends per 1280 x 800
// frame on one decision: a challenge-response burst whose frames lit by both
// banks go through the gate (each against the burst's first unlit frame),
// then liveness on the whole burst. ns/frame divides by the burst's frames.
// As in the kiosk, both keep their buffers in a workspace outside the Go
// heap (there locked: uplink/secmem).
func BenchmarkGateAndLiveness(b *testing.B) {
	scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf("bench"), Seed: 1})
	var pattern [liveness.BurstFrames]uint8
	liveness.PatternFrom(rand.NewPCG(1, 2), pattern[:])
	burst := liveness.Burst{Frames: make([]liveness.Frame, liveness.BurstFrames), Black: synth.BlackLevel, DistanceMM: scene.DistanceMM()}
	var unlit *image.Gray
	for i, bk := range pattern {
		img := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
		scene.RenderFrame(img, i, synth.Banks(bk))
		burst.Frames[i] = liveness.Frame{Img: img, Banks: bk}
		if bk == liveness.BanksOff && unlit == nil {
			unlit = img
		}
	}
	size := image.Pt(synth.Width, synth.Height)
	gateSize := quality.WorkspaceSize(size)
	mem, err := unix.Mmap(-1, 0, gateSize+liveness.WorkspaceSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(mem)
	g := quality.NewGateIn(mem[:gateSize])
	defer g.Close()
	c := liveness.NewCheckerIn(mem[gateSize:])
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.Reset()
		for _, f := range burst.Frames {
			if f.Banks == liveness.BanksBoth && !g.CheckAt(f.Img, unlit, scene.DistanceMM()).OK {
				b.Fatal("a benchmark frame does not pass the gate")
			}
		}
		if !c.CheckBurst(burst).Live {
			b.Fatal("the benchmark burst is not judged live")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(liveness.BurstFrames), "ns/frame")
}
