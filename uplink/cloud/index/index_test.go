package index

import (
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/palmd/palmd/vision/match"
)

func TestAddRemove(t *testing.T) {
	ps := tuning(t)[:40]
	x := New()
	for i, p := range ps {
		x.Add(fmt.Sprint("p", i), p.enrolled)
	}
	x.Add("p0", ps[0].enrolled) // replacing keeps one entry
	if x.Len() != len(ps) {
		t.Fatalf("Len = %d, want %d", x.Len(), len(ps))
	}
	if !x.Remove("p3") || x.Remove("p3") || x.Len() != len(ps)-1 {
		t.Fatal("Remove did not forget p3 exactly once")
	}
	for i, p := range ps {
		id, score, ok := x.Search(p.probe)
		want := fmt.Sprint("p", i)
		switch {
		case i == 3 && ok:
			t.Errorf("removed p3 found as %s (%.2f)", id, score)
		case i != 3 && (!ok || id != want):
			t.Errorf("probe %d: %q %.2f %v, want %s", i, id, score, ok, want)
		}
	}
}

// plant builds an index of n templates: fillers with every genuine
// enrolled template planted among them at spread positions.
func plant(tb testing.TB, n int, gs []genuine) *Index {
	x := New()
	fs := fillers(tb, n-len(gs), uint64(n))
	step := max(1, n/len(gs))
	g := 0
	for i := 0; x.Len() < n; i++ {
		if g < len(gs) && i%step == 0 {
			x.Add(fmt.Sprint("genuine-", g), gs[g].enrolled)
			g++
			continue
		}
		x.Add(fmt.Sprint("filler-", i), fs[i-g])
	}
	return x
}

// recall searches every genuine probe and returns how many the index lost
// (did not return its own enrolment, though the matcher matches the pair,
// so an exhaustive search finds it unless a filler scored higher, which
// the test also counts) and the search times.
func recall(x *Index, gs []genuine) (lost int, times []time.Duration) {
	for g, p := range gs {
		start := time.Now()
		id, _, ok := x.Search(p.probe)
		times = append(times, time.Since(start))
		if !ok || id != fmt.Sprint("genuine-", g) {
			lost++
		}
	}
	slices.Sort(times)
	return lost, times
}

func quantile(ts []time.Duration, q float64) time.Duration { return ts[int(q*float64(len(ts)-1))] }

// TestRecall plants the held-out genuine pairs among fillers and holds the
// index to at most 0.1 % of genuine probes lost against the exhaustive
// search. It runs at 100,000 enrolled (the benchmark reports 10,000 to
// 1,000,000); -short and -race at 5,000.
func TestRecall(t *testing.T) {
	n := 100_000
	gs := heldOut(t)
	if small() {
		n, gs = 5_000, gs[:200]
	}
	x := plant(t, n, gs)
	lost, times := recall(x, gs)
	t.Logf("enrolled %d: %d of %d genuine probes lost; search p50 %v p99 %v", n, lost, len(gs), quantile(times, 0.5), quantile(times, 0.99))
	if lost*1000 > len(gs) {
		t.Errorf("%d of %d genuine probes lost, more than 0.1 %%", lost, len(gs))
	}
}

// TestUnknownNotIdentified searches held-out probes whose own palms are not
// enrolled among fillers: none may be identified. A decision rule that
// accepts scores below match.Threshold (cohort normalisation did, at
// about 0.21 for most probes) identified 3 of 1,000 here at 10,000
// enrolled and 13 at 100,000.
func TestUnknownNotIdentified(t *testing.T) {
	n, gs := 10_000, heldOut(t)[:1000]
	if small() {
		n, gs = 2_000, gs[:200]
	}
	x := New()
	for i, f := range fillers(t, n, uint64(n)+99) {
		x.Add(fmt.Sprint("filler-", i), f)
	}
	for i, g := range gs {
		if id, s, ok := x.Search(g.probe); ok {
			t.Errorf("unknown probe %d identified as %s (score %.3f)", i, id, s)
		}
	}
}

// BenchmarkSearch measures one identification among 10,000, 100,000 and
// 1,000,000 enrolled templates, and the recall on the held-out pairs:
// every held-out probe is searched once per run (run it with
// -benchtime=3107x for all of them),
// lost_pct is the share lost against the exhaustive search, p99_ms the
// 99th percentile of the search time and cpu_ms/op the CPU time per search
// over both cores. Building the 1,000,000 index (not timed) takes about
// 20 s here.
func BenchmarkSearch(b *testing.B) {
	gs := heldOut(b)
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint("enrolled=", n), func(b *testing.B) {
			x := built.get(b, n, gs)
			cpu0 := cpuTime()
			b.ResetTimer()
			var times []time.Duration
			lost := 0
			for i := 0; i < b.N; i++ {
				g := i % len(gs)
				start := time.Now()
				id, _, ok := x.Search(gs[g].probe)
				times = append(times, time.Since(start))
				if !ok || id != fmt.Sprint("genuine-", g) {
					lost++
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu_ms/op")
			slices.Sort(times)
			b.ReportMetric(100*float64(lost)/float64(b.N), "lost_pct")
			b.ReportMetric(float64(quantile(times, 0.99))/1e6, "p99_ms")
		})
	}
}

// built keeps the indexes BenchmarkSearch builds: the benchmark function
// runs several times (growing b.N), and a 1,000,000 index takes seconds
// to build.
var built = indexCache{m: map[int]*Index{}}

type indexCache struct {
	mu sync.Mutex
	m  map[int]*Index
}

func (c *indexCache) get(tb testing.TB, n int, gs []genuine) *Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[n] == nil {
		c.m[n] = plant(tb, n, gs)
	}
	return c.m[n]
}

// cpuTime is the CPU time the process used so far (every thread): unlike
// ns/op, it does not grow when other work on the machine takes the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExhaustive is the linear search the index replaces, at 10,000.
func BenchmarkExhaustive(b *testing.B) {
	gs := tuning(b)
	fs := fillers(b, 10_000, 1)
	for i := 0; i < b.N; i++ {
		p := gs[i%len(gs)].probe
		best := 0.0
		for j := range fs {
			best = max(best, match.Similarity(p, fs[j]))
		}
	}
}

// TestCut: the histogram's limit keeps exactly k templates (or all of
// them), ties at the limit included only as far as k.
func TestCut(t *testing.T) {
	tests := []struct {
		counts     map[int]int32 // distance → templates
		k          int
		limit      uint32
		ties, kept int
	}{
		{map[int]int32{3: 2, 5: 4, 9: 1}, 1, 3, 1, 1},
		{map[int]int32{3: 2, 5: 4, 9: 1}, 2, 3, 2, 2},
		{map[int]int32{3: 2, 5: 4, 9: 1}, 3, 5, 1, 3},
		{map[int]int32{3: 2, 5: 4, 9: 1}, 6, 5, 4, 6},
		{map[int]int32{3: 2, 5: 4, 9: 1}, 7, 9, 1, 7},
		{map[int]int32{3: 2, 5: 4, 9: 1}, 50, codeWords * 64, 0, 7},
		{map[int]int32{0: 3, codeWords * 64: 2}, 50, codeWords * 64, 2, 5},
	}
	for _, tt := range tests {
		var h histogram
		for d, n := range tt.counts {
			h[d] = n
		}
		limit, ties := h.cut(tt.k)
		kept := ties
		for d, n := range tt.counts {
			if uint32(d) < limit {
				kept += int(n)
			}
		}
		if limit != tt.limit || ties != tt.ties || kept != tt.kept {
			t.Errorf("%v cut(%d) = %d, %d (keeps %d), want %d, %d (keeps %d)", tt.counts, tt.k, limit, ties, kept, tt.limit, tt.ties, tt.kept)
		}
	}
}
