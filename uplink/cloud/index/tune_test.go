package index

import (
	"slices"
	"testing"
)

// The index's constants (the coarse window and offsets, the shortlist and
// the finalists) were chosen on the tuning pairs only; TestRecall and
// BenchmarkSearch report on the held-out pairs, other identities that no
// choice looked at.
func tuning(tb testing.TB) []genuine  { return pairs(tb, "pairs.bin.gz") }
func heldOut(tb testing.TB) []genuine { return pairs(tb, "heldout.bin.gz") }

// TestTune shows, on the tuning pairs among 100,000 fillers, the genuine
// template's rank at each stage of the cascade: by scan distance and by
// rank distance among all the fillers (its rank in the scan's shortlist is
// at most that), and by sampled fine distance among the fillers ahead of
// it by rank distance. Each must stay within half of what its stage passes
// on. -short and -race run it on 100 pairs among 5,000.
func TestTune(t *testing.T) {
	n := 100_000
	gs := tuning(t)
	if small() {
		n, gs = 5_000, gs[:100]
	}
	fs := fillers(t, n, 99)
	scan, rank := make([]code, n), make([]code, n)
	fine := make([]finePlanes, n)
	for i := range fs {
		scan[i], rank[i] = codes(fs[i])
		fine[i] = planesOf(fs[i])
	}
	var scanRanks, rankRanks, fineRanks []int
	for _, g := range gs {
		p := newProbe(g.probe)
		pf, ef := planesOf(g.probe), planesOf(g.enrolled)
		es, er := codes(g.enrolled)
		ds := p.scanDistance(&es)
		dr, ox, oy := p.rankDistance(&er)
		df := nearFine(&pf, &ef, ox, oy)
		var sr, rr, fr int
		for i := range scan {
			if p.scanDistance(&scan[i]) < ds {
				sr++
			}
			if d, ox, oy := p.rankDistance(&rank[i]); d < dr {
				rr++
				if nearFine(&pf, &fine[i], ox, oy) < df {
					fr++
				}
			}
		}
		scanRanks, rankRanks, fineRanks = append(scanRanks, sr), append(rankRanks, rr), append(fineRanks, fr)
	}
	for _, st := range []struct {
		name  string
		ranks []int
		keeps int
	}{
		{"scan", scanRanks, max(minScan, n/scanOne)},
		{"rank", rankRanks, max(minRank, n/rankOne)},
		{"fine", fineRanks, finalists},
	} {
		slices.Sort(st.ranks)
		q := func(f float64) int { return st.ranks[int(f*float64(len(st.ranks)-1))] }
		m := slices.Max(st.ranks)
		t.Logf("%s: %d tuning probes among %d: genuine rank p50 %d p99 %d p99.9 %d max %d; the stage keeps %d",
			st.name, len(gs), n, q(.5), q(.99), q(.999), m, st.keeps)
		if 2*m > st.keeps {
			t.Errorf("%s: genuine rank %d, more than half of the %d the stage keeps", st.name, m, st.keeps)
		}
	}
}
