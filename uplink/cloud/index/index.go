package index

import (
	"cmp"
	"container/heap"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/palmd/palmd/vision/match"
)

// The shortlist the coarse stage passes to the second stage is 1 % of
// the enrolled templates, at least minShortlist: the genuine template's
// rank by coarse distance grows in proportion to the number enrolled
// (measured: 99.9 % of genuine probes rank in the first 0.5 %, all of
// them in the first 0.9 %, among 100,000 palm-like fillers).
const (
	minShortlist     = 256
	shortlistPercent = 1
)

// parallelFrom is the index size from which the coarse stage is split
// between the cores.
const parallelFrom = 50_000

// finalists is how many templates the second stage passes to the
// matcher's full comparison.
const finalists = 8

// Index holds enrolled templates by id and finds the best match of a
// probe: a coarse stage ranks every template by the distance of their
// coarse codes and keeps a shortlist, and the matcher's full Similarity
// decides on the shortlist. Search may run concurrently with Search; Add
// and Remove need the caller's exclusive lock.
type Index struct {
	shortlist int
	ids       []string
	codes     []code
	tmpl      []finePlanes
	pos       map[string]int
}

// New returns an empty index. shortlist fixes the coarse stage's
// shortlist; 0 sizes it to the index (1 %, at least 256).
func New(shortlist int) *Index {
	return &Index{shortlist: shortlist, pos: map[string]int{}}
}

// Len returns the number of templates held.
func (x *Index) Len() int { return len(x.ids) }

// Add stores t under id, replacing any template id had.
func (x *Index) Add(id string, t match.Template) {
	m := coarse(t)
	c := pack(&m, func(int, int) bool { return true })
	f := planesOf(t)
	if i, ok := x.pos[id]; ok {
		x.tmpl[i], x.codes[i] = f, c
		return
	}
	x.pos[id] = len(x.ids)
	x.ids = append(x.ids, id)
	x.tmpl = append(x.tmpl, f)
	x.codes = append(x.codes, c)
}

// Remove forgets id and reports whether it was held.
func (x *Index) Remove(id string) bool {
	i, ok := x.pos[id]
	if !ok {
		return false
	}
	last := len(x.ids) - 1
	x.ids[i], x.tmpl[i], x.codes[i] = x.ids[last], x.tmpl[last], x.codes[last]
	x.pos[x.ids[i]] = i
	x.ids, x.tmpl, x.codes = x.ids[:last], x.tmpl[:last], x.codes[:last]
	delete(x.pos, id)
	return true
}

// Search returns the id of the template most similar to t with a score at
// or above match.Threshold, among the shortlist.
func (x *Index) Search(t match.Template) (id string, score float64, ok bool) {
	k := x.shortlist
	if k <= 0 {
		k = max(minShortlist, len(x.ids)*shortlistPercent/100)
	}
	i, score := x.search(t, k)
	if i < 0 {
		return "", 0, false
	}
	return x.ids[i], score, true
}

// search returns the index of the best template at or above the
// threshold, or -1. Three stages: the coarse distance over every template
// keeps a shortlist of k; the matcher's distance at the few fine shifts
// near each one's coarse shift keeps the finalists; the matcher's
// Similarity (every shift) decides among them.
func (x *Index) search(t match.Template, k int) (int, float64) {
	var cand []int32
	if len(x.ids) <= finalists {
		cand = make([]int32, len(x.ids))
		for i := range cand {
			cand[i] = int32(i)
		}
	} else {
		p := newProbe(t)
		if len(x.ids) > k {
			cand = x.shortlistOf(p, k)
		} else {
			cand = make([]int32, len(x.ids))
			for i := range cand {
				cand[i] = int32(i)
			}
		}
		cand = x.finalistsOf(p, planesOf(t), cand)
	}
	best, bestScore := -1, match.Threshold
	for _, i := range cand {
		if s := match.Similarity(t, x.tmpl[i].template()); s > bestScore || (s == bestScore && best < 0) {
			best, bestScore = int(i), s
		}
	}
	return best, bestScore
}

// finalistsOf ranks cand by the fine distance near each one's coarse
// shift and returns the best finalists.
func (x *Index) finalistsOf(p *probe, f finePlanes, cand []int32) []int32 {
	h := make(topK, 0, finalists)
	for _, i := range cand {
		_, dx, dy := p.nearest(&x.codes[i])
		d := nearFine(&f, &x.tmpl[i], dx, dy)
		if len(h) < finalists {
			heap.Push(&h, item{d: d, i: i})
		} else if d < h[0].d {
			h[0] = item{d: d, i: i}
			heap.Fix(&h, 0)
		}
	}
	out := make([]int32, len(h))
	for j, it := range h {
		out[j] = it.i
	}
	return out
}

// shortlistOf returns the k templates nearest p by coarse distance,
// scanning the index in parallel.
func (x *Index) shortlistOf(p *probe, k int) []int32 {
	n := len(x.codes)
	workers := 1
	if n >= parallelFrom {
		workers = runtime.GOMAXPROCS(0)
	}
	parts := make([]topK, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := n*w/workers, n*(w+1)/workers
			parts[w] = x.scan(p, k, lo, hi)
		}()
	}
	wg.Wait()
	var all topK
	for _, part := range parts {
		all = append(all, part...)
	}
	out := make([]int32, 0, k)
	for _, it := range nearestK(all, k) {
		out = append(out, it.i)
	}
	return out
}

// scan keeps the k nearest templates among lo..hi. Templates under the
// current bound go to a buffer; when it holds 2k, it is cut back to the k
// nearest and the bound tightens: amortised O(1) per template.
func (x *Index) scan(p *probe, k, lo, hi int) topK {
	buf := make(topK, 0, 2*k)
	bound := uint32(math.MaxUint32)
	for i := lo; i < hi; i++ {
		if d := p.distance(&x.codes[i]); d < bound {
			buf = append(buf, item{d: d, i: int32(i)})
			if len(buf) == cap(buf) {
				buf = nearestK(buf, k)
				bound = buf[k-1].d
			}
		}
	}
	return nearestK(buf, k)
}

// nearestK sorts h by distance and keeps the first k.
func nearestK(h topK, k int) topK {
	slices.SortFunc(h, func(a, b item) int { return cmp.Compare(a.d, b.d) })
	return h[:min(k, len(h))]
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
