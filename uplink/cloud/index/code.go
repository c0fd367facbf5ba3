package index

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/palmd/palmd/vision/match"
)

// The coarse codes: the template's 32 x 32 orientation field averaged (as
// doubled angles, so that opposite orientations do not cancel) over
// square windows of fine points on a 16 x 16 grid of stride 2, each point
// in 3 bits with the matcher's coding, so that Hamming distance is angular
// distance. Each of the three bit planes packs four 16-bit rows per uint64
// (cWords words a plane), 96 bytes a code. Two codes per template:
//
//   - the scan code, windows of 6 (overlapping by two thirds, so that a
//     shift of a point or two changes little), compared at the probe's
//     four scanOffsets: 48 XOR and POPCNT a template;
//   - the rank code, windows of 4 (sharper), compared at the probe's nine
//     rankOffsets: 108 XOR and POPCNT, on the scan's shortlist only.
const (
	fine       = 32 // the matcher's grid
	side       = 16 // coarse grid
	stride     = fine / side
	scanWindow = 6
	rankWindow = 4
	planes     = 3 // bits per point
	rowsWord   = 4 // coarse rows per uint64
	cWords     = side / rowsWord
	codeWords  = planes * cWords
)

// The fine shifts (in x and in y) at which a probe's codes are computed:
// the matcher searches ±3; scan offsets of ±1 reach it within two points
// (the scan window's tolerance), rank offsets of -2, 0 and 2 within one.
var (
	scanOffsets = [...]int{-1, 1}
	rankOffsets = [...]int{-2, 0, 2}
)

const (
	scanShifts = len(scanOffsets) * len(scanOffsets)
	rankShifts = len(rankOffsets) * len(rankOffsets)
)

// scanDistance is written out for four scan offsets: this fails to
// compile otherwise.
var _ = [1]struct{}{}[scanShifts-4]

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

// coarse computes the code of field f shifted by (ox, oy) fine points
// with windows of w: coarse point (bx, by) averages the fine points
// (x+ox, y+oy) of its window; points outside the field do not count.
func coarse(f *[fine][fine]int8, w, ox, oy int) (c code) {
	for by := range side {
		for bx := range side {
			var cs, sn float64
			y0, x0 := by*stride+stride/2-w/2+oy, bx*stride+stride/2-w/2+ox
			for y := max(0, y0); y < min(fine, y0+w); y++ {
				for x := max(0, x0); x < min(fine, x0+w); x++ {
					if o := f[y][x]; o >= 0 {
						cs += cosO[o]
						sn += sinO[o]
					}
				}
			}
			a := math.Atan2(sn, cs)
			if a < 0 {
				a += 2 * math.Pi
			}
			b := orientBits[uint8(math.Round(a/(math.Pi/3)))%6]
			bit := uint(by%rowsWord*side + bx)
			for p := range planes {
				c[p*cWords+by/rowsWord] |= uint64(b>>p&1) << bit
			}
		}
	}
	return c
}

// codes returns a template's scan and rank codes, unshifted: an enrolled
// template's.
func codes(t match.Template) (scan, rank code) {
	f := field(t)
	return coarse(&f, scanWindow, 0, 0), coarse(&f, rankWindow, 0, 0)
}

// probe is a search's query: its codes at each offset.
type probe struct {
	scan [scanShifts]code
	rank [rankShifts]code
	off  [rankShifts][2]int8 // (ox, oy) of each rank code
}

func newProbe(t match.Template) *probe {
	f := field(t)
	p := new(probe)
	i := 0
	for _, oy := range scanOffsets {
		for _, ox := range scanOffsets {
			p.scan[i] = coarse(&f, scanWindow, ox, oy)
			i++
		}
	}
	i = 0
	for _, oy := range rankOffsets {
		for _, ox := range rankOffsets {
			p.rank[i] = coarse(&f, rankWindow, ox, oy)
			p.off[i] = [2]int8{int8(ox), int8(oy)}
			i++
		}
	}
	return p
}

// hamming counts the bits that differ between q and c.
func hamming(q, c *code) uint32 {
	return uint32(bits.OnesCount64(q[0]^c[0]) + bits.OnesCount64(q[1]^c[1]) +
		bits.OnesCount64(q[2]^c[2]) + bits.OnesCount64(q[3]^c[3]) +
		bits.OnesCount64(q[4]^c[4]) + bits.OnesCount64(q[5]^c[5]) +
		bits.OnesCount64(q[6]^c[6]) + bits.OnesCount64(q[7]^c[7]) +
		bits.OnesCount64(q[8]^c[8]) + bits.OnesCount64(q[9]^c[9]) +
		bits.OnesCount64(q[10]^c[10]) + bits.OnesCount64(q[11]^c[11]))
}

// scanDistance is the smallest Hamming distance between the enrolled scan
// code c and the probe's over the scan offsets: the inner loop of every
// search. It is written out for four offsets (checked below).
func (p *probe) scanDistance(c *code) uint32 {
	return min(hamming(&p.scan[0], c), hamming(&p.scan[1], c), hamming(&p.scan[2], c), hamming(&p.scan[3], c))
}

// rankDistance is the smallest Hamming distance between the enrolled rank
// code c and the probe's over the rank offsets, and the offset (ox, oy)
// that gives it: the enrolled fine point (x, y) faces the probe's
// (x+ox, y+oy).
func (p *probe) rankDistance(c *code) (best uint32, ox, oy int) {
	best = math.MaxUint32
	for s := range rankShifts {
		if d := hamming(&p.rank[s], c); d < best {
			best, ox, oy = d, int(p.off[s][0]), int(p.off[s][1])
		}
	}
	return best, ox, oy
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

// fineReach is how far from the rank offset the matcher's shift may lie,
// in fine points: the rank offsets are -2, 0 and 2 and the matcher's
// shift is within ±3.
const fineReach = 1

// nearFine returns the smallest sampled fine distance between a and b over
// the fine shifts within fineReach of the rank offset (ox, oy), where the
// enrolled point (x, y) faced the probe's (x+ox, y+oy): the matcher's
// shift is then about (-ox, -oy).
func nearFine(a, b *finePlanes, ox, oy int) uint32 {
	best := uint32(math.MaxUint32)
	for fy := max(-maxShift, -oy-fineReach); fy <= min(maxShift, -oy+fineReach); fy++ {
		for fx := max(-maxShift, -ox-fineReach); fx <= min(maxShift, -ox+fineReach); fx++ {
			best = min(best, sampledDistance(a, b, fx, fy))
		}
	}
	return best
}
