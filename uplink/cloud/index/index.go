package index

import (
	"github.com/palmd/palmd/vision/match"
)

// Index holds enrolled templates by id and finds the best match of a
// probe. Search may run concurrently with Search; Add and Remove need the
// caller's exclusive lock.
type Index struct {
	ids  []string
	tmpl []match.Template
	pos  map[string]int
}

// New returns an empty index.
func New() *Index { return &Index{pos: map[string]int{}} }

// Len returns the number of templates held.
func (x *Index) Len() int { return len(x.ids) }

// Add stores t under id, replacing any template id had.
func (x *Index) Add(id string, t match.Template) {
	if i, ok := x.pos[id]; ok {
		x.tmpl[i] = t
		return
	}
	x.pos[id] = len(x.ids)
	x.ids = append(x.ids, id)
	x.tmpl = append(x.tmpl, t)
}

// Remove forgets id and reports whether it was held.
func (x *Index) Remove(id string) bool {
	i, ok := x.pos[id]
	if !ok {
		return false
	}
	last := len(x.ids) - 1
	x.ids[i], x.tmpl[i] = x.ids[last], x.tmpl[last]
	x.pos[x.ids[i]] = i
	x.ids, x.tmpl = x.ids[:last], x.tmpl[:last]
	delete(x.pos, id)
	return true
}

// Search returns the id of the template most similar to t with a score at
// or above match.Threshold.
func (x *Index) Search(t match.Template) (id string, score float64, ok bool) {
	best := -1
	score = match.Threshold
	for i := range x.tmpl {
		if s := match.Similarity(t, x.tmpl[i]); s >= score {
			best, score = i, s
		}
	}
	if best < 0 {
		return "", 0, false
	}
	return x.ids[best], score, true
}
