package index

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/palmd/palmd/vision/match"
)

// The coarse code: the template's 32 x 32 orientation field averaged over
// 2 x 2 blocks (as doubled angles, so that opposite orientations do not
// cancel) to 16 x 16 points of 3 bits each, with the matcher's bit coding,
// so that Hamming distance is angular distance. Each of the three bit
// planes packs four 16-bit rows per uint64 (cWords words a plane).
const (
	fine      = 32 // the matcher's grid
	side      = 16 // coarse grid
	planes    = 3  // bits per point
	rowsWord  = 4  // coarse rows per uint64
	cWords    = side / rowsWord
	codeWords = planes * cWords
	shifts    = 9 // coarse shifts tried: -1..1 in x and y (±2 fine points)
)

type code [codeWords]uint64

// orientBits is the matcher's coding of orientation k*pi/6 (vision/match).
var orientBits = [6]uint8{0b000, 0b001, 0b011, 0b111, 0b110, 0b100}

// bitsOrient inverts orientBits; -1 for the two unused patterns.
var bitsOrient = [8]int8{0, 1, -1, 2, 5, -1, 4, 3}

// doubled-angle unit vectors of the six orientations.
var cosO, sinO [6]float64

func init() {
	for k := range 6 {
		cosO[k] = math.Cos(float64(k) * math.Pi / 3)
		sinO[k] = math.Sin(float64(k) * math.Pi / 3)
	}
}

// field decodes a template's orientation field from its encoding
// (match.Template.MarshalBinary: "PCC", version, grid, three planes of 32
// little-endian uint32 rows).
func field(t match.Template) (f [fine][fine]int8) {
	b, _ := t.MarshalBinary()
	b = b[5:]
	for y := range fine {
		var p [planes]uint32
		for k := range planes {
			p[k] = binary.LittleEndian.Uint32(b[(k*fine+y)*4:])
		}
		for x := range fine {
			c := p[0]>>x&1 | (p[1]>>x&1)<<1 | (p[2]>>x&1)<<2
			f[y][x] = bitsOrient[c]
		}
	}
	return f
}

// coarse computes t's coarse code as a 16 x 16 orientation map.
func coarse(t match.Template) (m [side][side]uint8) {
	f := field(t)
	for by := range side {
		for bx := range side {
			var c, s float64
			for y := 2 * by; y < 2*by+2; y++ {
				for x := 2 * bx; x < 2*bx+2; x++ {
					if o := f[y][x]; o >= 0 {
						c += cosO[o]
						s += sinO[o]
					}
				}
			}
			a := math.Atan2(s, c)
			if a < 0 {
				a += 2 * math.Pi
			}
			m[by][bx] = uint8(math.Round(a/(math.Pi/3))) % 6
		}
	}
	return m
}

// pack packs a 16 x 16 orientation map; the points where valid is false
// are left zero.
func pack(m *[side][side]uint8, valid func(x, y int) bool) (c code) {
	for y := range side {
		for x := range side {
			if !valid(x, y) {
				continue
			}
			b := orientBits[m[y][x]]
			bit := uint(y%rowsWord*side + x)
			for p := range planes {
				c[p*cWords+y/rowsWord] |= uint64(b>>p&1) << bit
			}
		}
	}
	return c
}

// probe is a search's query: its coarse code shifted by each coarse shift,
// with the mask of the points that overlap the enrolled code, and the
// weight that turns a count of differing bits into a normalised distance.
type probe struct {
	code   [shifts]code
	mask   [shifts][cWords]uint64
	weight [shifts]uint32
}

func newProbe(t match.Template) *probe {
	m := coarse(t)
	p := new(probe)
	i := 0
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			in := func(x, y int) bool { return x+dx >= 0 && x+dx < side && y+dy >= 0 && y+dy < side }
			var shifted [side][side]uint8
			for y := range side {
				for x := range side {
					if in(x, y) {
						shifted[y][x] = m[y+dy][x+dx]
					}
				}
			}
			p.code[i] = pack(&shifted, in)
			var ones [side][side]uint8
			for y := range side {
				for x := range side {
					ones[y][x] = 3 // orientBits[3] = 0b111: every plane set
				}
			}
			mc := pack(&ones, in)
			copy(p.mask[i][:], mc[:cWords])
			n := 0
			for _, w := range p.mask[i] {
				n += bits.OnesCount64(w)
			}
			// distance = differing bits / (3 * overlapping points), scaled by 2^24.
			p.weight[i] = uint32((1 << 24) / (planes * n))
			i++
		}
	}
	return p
}

// distance returns the smallest normalised coarse distance (scaled by
// 2^24) between p and c over the coarse shifts. It is the inner loop of
// every search: the enrolled code is loaded once, and each shift costs
// twelve XOR, AND and POPCNT.
func (p *probe) distance(c *code) uint32 {
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	c4, c5, c6, c7 := c[4], c[5], c[6], c[7]
	c8, c9, c10, c11 := c[8], c[9], c[10], c[11]
	best := uint32(math.MaxUint32)
	for s := range shifts {
		q, m := &p.code[s], &p.mask[s]
		n := bits.OnesCount64((q[0]^c0)&m[0]) + bits.OnesCount64((q[1]^c1)&m[1]) +
			bits.OnesCount64((q[2]^c2)&m[2]) + bits.OnesCount64((q[3]^c3)&m[3]) +
			bits.OnesCount64((q[4]^c4)&m[0]) + bits.OnesCount64((q[5]^c5)&m[1]) +
			bits.OnesCount64((q[6]^c6)&m[2]) + bits.OnesCount64((q[7]^c7)&m[3]) +
			bits.OnesCount64((q[8]^c8)&m[0]) + bits.OnesCount64((q[9]^c9)&m[1]) +
			bits.OnesCount64((q[10]^c10)&m[2]) + bits.OnesCount64((q[11]^c11)&m[3])
		best = min(best, uint32(n)*p.weight[s])
	}
	return best
}

// nearest returns the smallest normalised coarse distance (scaled by
// 2^24) between p and c and the coarse shift (dx, dy) that gives it: the
// enrolled point (x, y) faces the probe's (x+dx, y+dy).
func (p *probe) nearest(c *code) (best uint32, dx, dy int) {
	best = math.MaxUint32
	for s := range shifts {
		q, m := &p.code[s], &p.mask[s]
		n := 0
		for w := range cWords {
			n += bits.OnesCount64((q[w]^c[w])&m[w]) +
				bits.OnesCount64((q[cWords+w]^c[cWords+w])&m[w]) +
				bits.OnesCount64((q[2*cWords+w]^c[2*cWords+w])&m[w])
		}
		if d := uint32(n) * p.weight[s]; d < best {
			best, dx, dy = d, s%3-1, s/3-1
		}
	}
	return best, dx, dy
}

// planesOf decodes a template's three fine bit planes (32 rows of 32
// bits), as the matcher holds them.
func planesOf(t match.Template) (f finePlanes) {
	b, _ := t.MarshalBinary()
	for k := range planes {
		for y := range fine {
			f[k][y] = binary.LittleEndian.Uint32(b[5+(k*fine+y)*4:])
		}
	}
	return f
}

type finePlanes [planes][fine]uint32

// template re-encodes fine planes as a match.Template.
func (f *finePlanes) template() match.Template {
	b := make([]byte, 5, 5+planes*fine*4)
	copy(b, "PCC\x01\x20")
	for k := range planes {
		for y := range fine {
			b = binary.LittleEndian.AppendUint32(b, f[k][y])
		}
	}
	var t match.Template
	if err := t.UnmarshalBinary(b); err != nil {
		panic("index: planes of a valid template do not decode: " + err.Error())
	}
	return t
}

// sampledDistance is the matcher's normalised angular distance between
// probe a at (x, y) and enrolled b at (x+dx, y+dy) (vision/match's
// distance), scaled by 2^24, over every fourth row only: enough to rank
// the shortlist, at a quarter of the cost.
func sampledDistance(a, b *finePlanes, dx, dy int) uint32 {
	mask := ^uint32(0)
	if dx >= 0 {
		mask >>= dx
	} else {
		mask <<= -dx
	}
	diff, rows := 0, 0
	for y := max(0, -dy); y < min(fine, fine-dy); y += rowStep {
		r0, r1, r2 := b[0][y+dy], b[1][y+dy], b[2][y+dy]
		if dx >= 0 {
			r0, r1, r2 = r0>>dx, r1>>dx, r2>>dx
		} else {
			r0, r1, r2 = r0<<-dx, r1<<-dx, r2<<-dx
		}
		diff += bits.OnesCount32((a[0][y]^r0)&mask) + bits.OnesCount32((a[1][y]^r1)&mask) +
			bits.OnesCount32((a[2][y]^r2)&mask)
		rows++
	}
	return uint32(uint64(diff) << 24 / uint64(planes*rows*bits.OnesCount32(mask)))
}

// rowStep is the row sampling of sampledDistance.
const rowStep = 4

// maxShift is the matcher's translation search, in fine points.
const maxShift = 3

// nearFine returns the smallest sampled fine distance between a and b over
// the fine shifts within one point of twice the coarse shift (dx, dy),
// where the enrolled point (x, y) faced the probe's (x+dx, y+dy): the
// matcher's shift is then about (-2dx, -2dy).
func nearFine(a, b *finePlanes, dx, dy int) uint32 {
	best := uint32(math.MaxUint32)
	for fy := max(-maxShift, -2*dy-1); fy <= min(maxShift, -2*dy+1); fy++ {
		for fx := max(-maxShift, -2*dx-1); fx <= min(maxShift, -2*dx+1); fx++ {
			best = min(best, sampledDistance(a, b, fx, fy))
		}
	}
	return best
}
