package synth

import (
	"math"
	"math/rand/v2"
)

// Canonical hand space: the unit is the palm width, the palm centre is the
// origin, +u points to the thumb side and +v points to the fingers.

// vec is a point or direction in canonical hand space.
type vec struct{ u, v float64 }

func (a vec) add(b vec) vec       { return vec{a.u + b.u, a.v + b.v} }
func (a vec) sub(b vec) vec       { return vec{a.u - b.u, a.v - b.v} }
func (a vec) scale(k float64) vec { return vec{a.u * k, a.v * k} }
func (a vec) dot(b vec) float64   { return a.u*b.u + a.v*b.v }
func (a vec) len() float64        { return math.Sqrt(a.u*a.u + a.v*a.v) }

// finger is one digit at rest: its base on the palm, its length and width.
type finger struct {
	base   vec     // where the digit leaves the palm
	length float64 // base to tip
	width  float64 // at the base; the tip is narrower
	angle  float64 // rest direction, radians from +v towards +u
}

// crease is one palm or finger crease, a cubic Bezier with a depth.
type crease struct {
	p      [4]vec
	width  float64 // half-width of the fold
	depth  float64 // fraction of reflectance lost at the deepest point
	wobble float64 // sideways waviness, canonical units
	freq   float64 // waves along the crease
	phase  float64
}

func (c crease) at(t float64) vec {
	s := 1 - t
	a := c.p[0].scale(s * s * s)
	b := c.p[1].scale(3 * s * s * t)
	d := c.p[2].scale(3 * s * t * t)
	e := c.p[3].scale(t * t * t)
	return a.add(b).add(d).add(e)
}

// veinNode is one node of a vein tree; edges run from parent to node.
type veinNode struct {
	pos    vec
	parent int     // -1 for a root
	radius float64 // canonical units
	depth  float64 // 0 shallow .. 1 deep (fainter)
}

// anatomy is everything about a palm that belongs to the person and not to
// the capture.
type anatomy struct {
	palmMM     float64 // palm width in millimetres
	palmLen    float64 // wrist crease to finger bases, in palm widths
	wrist      float64 // wrist width, in palm widths
	fingers    [4]finger
	thumb      finger
	creases    []crease
	veins      []veinNode
	veinLinks  [][2]int // anastomoses: extra vessels joining two tree nodes
	veinAmp    float64  // vein contrast under the LEDs
	textureAmp float64  // skin texture strength
	texSeed    uint64   // seeds the skin texture fields
	albedo     float64  // palm skin's diffuse reflectance at 850 nm
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// Stream constants keep the random draws of each concern independent.
const (
	streamGeometry = 0x9e3779b97f4a7c15 + iota
	streamCreases
	streamVeins
	streamTexture
	streamCapture
	streamNoise
)

func newAnatomy(id uint64) *anatomy {
	g := rand.New(rand.NewPCG(id, streamGeometry))
	a := &anatomy{
		palmMM:     uniform(g, 76, 94),
		palmLen:    uniform(g, 1.02, 1.16),
		wrist:      uniform(g, 0.74, 0.84),
		veinAmp:    uniform(g, 0.22, 0.34),
		textureAmp: uniform(g, 0.6, 1.4),
		texSeed:    g.Uint64(),
	}
	top := a.palmLen / 2
	middle := uniform(g, 0.86, 1.0)
	lengths := [4]float64{
		middle * uniform(g, 0.70, 0.79), // little
		middle * uniform(g, 0.90, 0.97), // ring
		middle,                          // middle
		middle * uniform(g, 0.87, 0.94), // index
	}
	widths := [4]float64{0.165, 0.195, 0.215, 0.205}
	bases := [4]vec{{-0.37, top - 0.09}, {-0.125, top - 0.01}, {0.12, top}, {0.365, top - 0.04}}
	rest := [4]float64{-0.20, -0.07, 0.0, 0.08}
	for i := range a.fingers {
		w := widths[i] * uniform(g, 0.93, 1.07)
		a.fingers[i] = finger{
			base:   bases[i].add(vec{uniform(g, -0.015, 0.015), uniform(g, -0.02, 0.02)}),
			length: lengths[i],
			width:  w,
			angle:  rest[i] + uniform(g, -0.04, 0.04),
		}
	}
	// The thumb's base is deep in the thenar eminence, where its metacarpal
	// leaves the palm outline.
	a.thumb = finger{
		base:   vec{uniform(g, 0.24, 0.3), -a.palmLen/2 + uniform(g, 0.2, 0.28)},
		length: uniform(g, 0.9, 1.0),
		width:  uniform(g, 0.22, 0.25),
		angle:  uniform(g, 0.6, 0.78),
	}
	a.albedo = uniform(g, 0.44, 0.62)
	a.creases = palmCreases(rand.New(rand.NewPCG(id, streamCreases)), a)
	vr := rand.New(rand.NewPCG(id, streamVeins))
	a.veins = veinTree(vr, a)
	a.veinLinks = anastomoses(vr, a.veins)
	return a
}

// palmCreases draws the three principal creases, secondary creases, finger
// flexion creases and wrist creases (after the BezierPalm idea: a few
// principal and several secondary Bezier curves whose control points are the
// identity).
func palmCreases(r *rand.Rand, a *anatomy) []crease {
	top, bot := a.palmLen/2, -a.palmLen/2
	j := func(p vec, s float64) vec { return p.add(vec{uniform(r, -s, s), uniform(r, -s, s)}) }
	var cs []crease
	// Heart line (distal transverse): from the little-finger edge towards the
	// gap between index and middle finger.
	hy := uniform(r, 0.12, 0.22)
	cs = append(cs, crease{p: [4]vec{
		{-0.52, top - 0.36 + hy*0.3}, j(vec{-0.22, top - 0.30 + hy*0.2}, 0.05),
		j(vec{0.04, top - 0.27}, 0.05), j(vec{0.22, top - 0.10}, 0.04)},
		width: uniform(r, 0.007, 0.011), depth: uniform(r, 0.30, 0.45)})
	// Life line and head line share a start on the thumb side.
	start := j(vec{0.50, top - 0.40}, 0.03)
	cs = append(cs, crease{p: [4]vec{
		start, j(vec{0.18, top - 0.50}, 0.05),
		j(vec{0.05, bot + 0.35}, 0.06), j(vec{0.16, bot + 0.02}, 0.05)},
		width: uniform(r, 0.008, 0.012), depth: uniform(r, 0.32, 0.48)})
	cs = append(cs, crease{p: [4]vec{
		start.add(vec{-0.01, 0.01}), j(vec{0.20, top - 0.48}, 0.05),
		j(vec{-0.10, top - 0.58}, 0.06), j(vec{-0.42, top - 0.70 - uniform(r, 0, 0.15)}, 0.06)},
		width: uniform(r, 0.007, 0.011), depth: uniform(r, 0.28, 0.42)})
	// Secondary creases: short, shallower, mostly running from the wrist up.
	for n := 4 + r.IntN(6); n > 0; n-- {
		c := vec{uniform(r, -0.35, 0.25), uniform(r, bot+0.1, top-0.2)}
		ang := uniform(r, -0.9, 0.9) + math.Pi/2*float64(r.IntN(2))*0.4
		l := uniform(r, 0.10, 0.32)
		d := vec{math.Sin(ang), math.Cos(ang)}.scale(l / 2)
		bend := vec{d.v, -d.u}.scale(uniform(r, -0.4, 0.4))
		cs = append(cs, crease{p: [4]vec{c.sub(d), c.sub(d.scale(0.33)).add(bend), c.add(d.scale(0.33)).add(bend), c.add(d)},
			width: uniform(r, 0.004, 0.008), depth: uniform(r, 0.10, 0.25)})
	}
	// Principal and secondary creases are not perfect curves.
	for i := range cs {
		cs[i].wobble = uniform(r, 0.002, 0.007)
		cs[i].freq = uniform(r, 1.5, 4.5)
		cs[i].phase = uniform(r, 0, 2*math.Pi)
	}
	// Wrist creases.
	for i := range 2 {
		y := bot - 0.07 - 0.09*float64(i) + uniform(r, -0.02, 0.02)
		w := a.wrist / 2
		cs = append(cs, crease{p: [4]vec{{-w, y}, j(vec{-w / 3, y - 0.02}, 0.015), j(vec{w / 3, y - 0.02}, 0.015), {w, y + uniform(r, -0.03, 0.03)}},
			width: uniform(r, 0.005, 0.008), depth: uniform(r, 0.18, 0.3)})
	}
	return cs
}

// fingerCreases returns the flexion creases of a digit as posed: across the
// finger at the joints, in canonical space.
func fingerCreases(r *rand.Rand, base, dir vec, length, width float64, joints []float64) []crease {
	side := vec{dir.v, -dir.u}
	var cs []crease
	for _, t := range joints {
		for k := range 1 + r.IntN(2) {
			c := base.add(dir.scale(length * (t + 0.025*float64(k) + uniform(r, -0.01, 0.01))))
			h := side.scale(width * 0.42)
			bow := dir.scale(uniform(r, -0.015, 0.015))
			cs = append(cs, crease{p: [4]vec{c.sub(h), c.sub(h.scale(0.33)).add(bow), c.add(h.scale(0.33)).add(bow), c.add(h)},
				width: uniform(r, 0.005, 0.008), depth: uniform(r, 0.25, 0.4)})
		}
	}
	return cs
}

// veinTree grows the subcutaneous veins by space colonisation from roots at
// the wrist towards attraction points spread over the palm, then gives each
// branch a radius that grows with the number of endpoints downstream of it
// (the PVTree observation).
func veinTree(r *rand.Rand, a *anatomy) []veinNode {
	top, bot := a.palmLen/2, -a.palmLen/2
	var attract []vec
	for len(attract) < 180 {
		p := vec{uniform(r, -0.5, 0.5), uniform(r, bot-0.3, top+0.12)}
		if p.v < bot && math.Abs(p.u) > a.wrist/2-0.08 {
			continue
		}
		if math.Abs(p.u) > 0.44 && p.v > top-0.1 {
			continue
		}
		attract = append(attract, p)
	}
	var nodes []veinNode
	nroots := 2 + r.IntN(3)
	for i := range nroots {
		u := (float64(i)+0.5)/float64(nroots)*a.wrist*0.8 - a.wrist*0.4 + uniform(r, -0.05, 0.05)
		nodes = append(nodes, veinNode{pos: vec{u, bot - 0.9}, parent: -1, depth: uniform(r, 0, 0.6)})
	}
	const (
		influence = 0.22
		kill      = 0.045
		step      = 0.03
	)
	sum := make([]vec, 0, 512)
	cnt := make([]int, 0, 512)
	for iter := 0; iter < 120 && len(attract) > 0; iter++ {
		sum, cnt = sum[:0], cnt[:0]
		for range nodes {
			sum = append(sum, vec{})
			cnt = append(cnt, 0)
		}
		any := false
		for _, p := range attract {
			best, bd := -1, influence
			for i, n := range nodes {
				if d := p.sub(n.pos).len(); d < bd {
					best, bd = i, d
				}
			}
			if best >= 0 {
				d := p.sub(nodes[best].pos).scale(1 / max(bd, 1e-9))
				sum[best] = sum[best].add(d)
				cnt[best]++
				any = true
			}
		}
		n0 := len(nodes)
		for i := range n0 {
			var dir vec
			switch {
			case cnt[i] > 0:
				dir = sum[i].scale(1 / float64(cnt[i]))
			case !any && isTip(nodes, i):
				dir = vec{0, 1}
			default:
				continue
			}
			dir = dir.add(vec{uniform(r, -0.35, 0.35), uniform(r, -0.2, 0.2)})
			if l := dir.len(); l > 1e-9 {
				dir = dir.scale(step / l)
			} else {
				continue
			}
			nodes = append(nodes, veinNode{pos: nodes[i].pos.add(dir), parent: i, depth: nodes[i].depth})
		}
		kept := attract[:0]
		for _, p := range attract {
			near := false
			for _, n := range nodes[n0:] {
				if p.sub(n.pos).len() < kill {
					near = true
					break
				}
			}
			if !near {
				kept = append(kept, p)
			}
		}
		attract = kept
	}
	// Radius from the number of downstream endpoints. Children always come
	// after their parent, so one backwards pass counts them.
	leaves := make([]int, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		if leaves[i] == 0 {
			leaves[i] = 1
		}
		if p := nodes[i].parent; p >= 0 {
			leaves[p] += leaves[i]
		}
	}
	for i := range nodes {
		nodes[i].radius = min(0.0055*math.Pow(float64(leaves[i]), 0.42), 0.03)
	}
	return nodes
}

func isTip(nodes []veinNode, i int) bool {
	for _, n := range nodes[i+1:] {
		if n.parent == i {
			return false
		}
	}
	return true
}

// anastomoses joins some branch ends to a nearby vessel of another branch,
// turning the tree into the loose mesh palm veins form.
func anastomoses(r *rand.Rand, nodes []veinNode) [][2]int {
	const reach, hops = 0.08, 10
	// related reports whether b is within hops steps up the tree from a.
	related := func(a, b int) bool {
		for k := 0; k < hops && a >= 0; k++ {
			if a == b {
				return true
			}
			a = nodes[a].parent
		}
		return false
	}
	var links [][2]int
	for i := range nodes {
		if nodes[i].parent < 0 || !isTip(nodes, i) || r.Float64() > 0.5 {
			continue
		}
		best, bd := -1, reach
		for j := range nodes {
			if d := nodes[i].pos.sub(nodes[j].pos).len(); d < bd && !related(i, j) && !related(j, i) {
				best, bd = j, d
			}
		}
		if best >= 0 {
			links = append(links, [2]int{i, best})
		}
	}
	return links
}
