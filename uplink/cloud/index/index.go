package index

import (
	"container/heap"
	"math"
	"runtime"
	"sync"

	"github.com/palmd/palmd/vision/match"
)

// The shortlists: the scan keeps one in scanOne of the enrolled templates
// (at least minScan), the rank code keeps one in rankOne (at least
// minRank) of those, the sampled fine distance keeps finalists of those.
// The genuine template's rank at each stage grows in proportion to the
// number enrolled. Chosen on the tuning pairs only (TestTune; doc.go).
const (
	scanOne, minScan = 20, 512
	rankOne, minRank = 250, 64
	finalists        = 8
)

// parallelFrom is the number of codes from which a pass over them (the
// scan, the rank stage) is split between the cores.
const parallelFrom = 20_000

// Index holds enrolled templates by id and finds the best match of a
// probe: a coarse stage ranks every template by the distance of their
// coarse codes and keeps a shortlist, and the matcher's full Similarity
// decides on the shortlist. Search may run concurrently with Search; Add
// and Remove need the caller's exclusive lock.
type Index struct {
	ids  []string
	scan []code // scan codes, contiguous: the one array every search reads whole
	rank []code
	tmpl []finePlanes
	pos  map[string]int
}

// New returns an empty index.
func New() *Index {
	return &Index{pos: map[string]int{}}
}

// Len returns the number of templates held.
func (x *Index) Len() int { return len(x.ids) }

// Add stores t under id, replacing any template id had.
func (x *Index) Add(id string, t match.Template) {
	sc, rc := codes(t)
	f := planesOf(t)
	if i, ok := x.pos[id]; ok {
		x.scan[i], x.rank[i], x.tmpl[i] = sc, rc, f
		return
	}
	x.pos[id] = len(x.ids)
	x.ids = append(x.ids, id)
	x.scan = append(x.scan, sc)
	x.rank = append(x.rank, rc)
	x.tmpl = append(x.tmpl, f)
}

// Remove forgets id and reports whether it was held.
func (x *Index) Remove(id string) bool {
	i, ok := x.pos[id]
	if !ok {
		return false
	}
	last := len(x.ids) - 1
	x.ids[i], x.scan[i], x.rank[i], x.tmpl[i] = x.ids[last], x.scan[last], x.rank[last], x.tmpl[last]
	x.pos[x.ids[i]] = i
	x.ids, x.scan, x.rank, x.tmpl = x.ids[:last], x.scan[:last], x.rank[:last], x.tmpl[:last]
	delete(x.pos, id)
	return true
}

// Search returns the id of the template most similar to t with a score at
// or above match.Threshold, among the finalists of the cascade.
func (x *Index) Search(t match.Template) (id string, score float64, ok bool) {
	i, score := x.search(t)
	if i < 0 {
		return "", 0, false
	}
	return x.ids[i], score, true
}

// search returns the index of the best template at or above the
// threshold, or -1.
func (x *Index) search(t match.Template) (int, float64) {
	i, s := x.nearest(t)
	if i < 0 || s < match.Threshold {
		return -1, match.Threshold
	}
	return i, s
}

// nearest returns the index of the finalist most similar to t and its
// score, whatever the score (-1 in an empty index). Four stages: the scan
// code over every template keeps a shortlist; the rank code keeps a
// shorter one and finds each one's offset; the matcher's distance at the
// few fine shifts near that offset keeps the finalists; the matcher's
// Similarity (every shift) decides among them.
func (x *Index) nearest(t match.Template) (int, float64) {
	n := len(x.ids)
	var cand []int32
	if n <= finalists {
		cand = all(n)
	} else {
		p := newProbe(t)
		if k := max(minScan, n/scanOne); n > k {
			cand = x.scanned(p, k)
		} else {
			cand = all(n)
		}
		cand = x.ranked(p, planesOf(t), cand, max(minRank, n/rankOne))
	}
	best, bestScore := -1, math.Inf(-1)
	for _, i := range cand {
		if s := match.Similarity(t, x.tmpl[i].template()); s > bestScore {
			best, bestScore = int(i), s
		}
	}
	return best, bestScore
}

// all returns 0..n-1.
func all(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// ranked keeps the k of cand nearest p by rank code, then the finalists
// of those nearest by sampled fine distance near each one's rank offset.
func (x *Index) ranked(p *probe, f finePlanes, cand []int32, k int) []int32 {
	type ranked struct {
		i      int32
		d      uint32
		ox, oy int8
	}
	rs := make([]ranked, len(cand))
	hists := make([]histogram, workersFor(len(cand)))
	var wg sync.WaitGroup
	for w := range hists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := len(cand)*w/len(hists), len(cand)*(w+1)/len(hists)
			h := &hists[w]
			for j := lo; j < hi; j++ {
				i := cand[j]
				d, ox, oy := p.rankDistance(&x.rank[i])
				rs[j] = ranked{i, d, int8(ox), int8(oy)}
				h[d]++
			}
		}()
	}
	wg.Wait()
	limit, ties := sum(hists).cut(k)
	h := make(topK, 0, finalists)
	for _, r := range rs {
		if r.d > limit || r.d == limit && ties == 0 {
			continue
		}
		if r.d == limit {
			ties--
		}
		d := nearFine(&f, &x.tmpl[r.i], int(r.ox), int(r.oy))
		if len(h) < finalists {
			heap.Push(&h, item{d: d, i: r.i})
		} else if d < h[0].d {
			h[0] = item{d: d, i: r.i}
			heap.Fix(&h, 0)
		}
	}
	out := make([]int32, len(h))
	for j, it := range h {
		out[j] = it.i
	}
	return out
}

// workersFor is how many goroutines share a pass over n codes: the cores,
// from parallelFrom codes on.
func workersFor(n int) int {
	if n >= parallelFrom {
		return runtime.GOMAXPROCS(0)
	}
	return 1
}

// sum adds histograms.
func sum(hs []histogram) *histogram {
	total := new(histogram)
	for w := range hs {
		for d, c := range hs[w] {
			total[d] += c
		}
	}
	return total
}

// histogram counts templates by code distance (at most codeWords*64).
type histogram [codeWords*64 + 1]int32

// cut returns the distance limit below which fewer than k templates lie,
// and how many of those at limit to keep so that k are kept in all (or
// every one, when there are fewer than k).
func (h *histogram) cut(k int) (limit uint32, ties int) {
	below := 0
	for d, n := range h {
		if below+int(n) >= k {
			return uint32(d), k - below
		}
		below += int(n)
	}
	return uint32(len(h) - 1), int(h[len(h)-1])
}

// scanned returns the k templates nearest p by scan code. It reads the
// scan codes once, split between the cores when the index is large: each
// part keeps its distances and a histogram of them; the histograms, added,
// give the distance limit that keeps k; the templates under it are taken.
// No sorting: a constant cost per template whatever k is.
func (x *Index) scanned(p *probe, k int) []int32 {
	n := len(x.scan)
	dist := make([]uint16, n)
	hists := make([]histogram, workersFor(n))
	var wg sync.WaitGroup
	for w := range hists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := n*w/len(hists), n*(w+1)/len(hists)
			h, d, codes := &hists[w], dist[lo:hi], x.scan[lo:hi]
			for j := range codes {
				v := p.scanDistance(&codes[j])
				d[j] = uint16(v)
				h[v]++
			}
		}()
	}
	wg.Wait()
	limit, ties := sum(hists).cut(k)
	out := make([]int32, 0, k)
	for i, d := range dist {
		if uint32(d) < limit {
			out = append(out, int32(i))
		} else if uint32(d) == limit && ties > 0 {
			out = append(out, int32(i))
			ties--
		}
	}
	return out
}

type item struct {
	d uint32
	i int32
}

// topK is a max-heap on distance: its root is the worst kept.
type topK []item

func (h topK) Len() int           { return len(h) }
func (h topK) Less(i, j int) bool { return h[i].d > h[j].d }
func (h topK) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topK) Push(v any)        { *h = append(*h, v.(item)) }
func (h *topK) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
