package match

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"math/bits"
)

// Size is the side of the square palm region NewTemplate accepts; it equals
// roi.Size.
const Size = 128

// Threshold is the decision threshold on Similarity: scores at or above it
// are taken as the same palm. See the package documentation for how it was
// chosen and the error rates measured at it.
const Threshold = 0.30

const (
	grid     = 32          // code points per side
	stride   = Size / grid // ROI pixels between code points
	orients  = 6           // filter orientations
	planes   = 3           // bits per code point
	radius   = 8           // filter half-width in ROI pixels
	sigma    = 3.5         // Gaussian envelope of the filters
	lambda   = 12.0        // wavelength of the filters
	maxShift = 3           // translation search in code points (±12 ROI pixels)
	magic    = "PCC"       // competitive-code template
	version  = 1           // template encoding version
	encLen   = 5 + planes*grid*4
)

// ErrSize reports a palm region that is not Size x Size.
var ErrSize = errors.New("match: palm region is not 128x128")

// ErrFormat reports bytes that are not an encoded Template.
var ErrFormat = errors.New("match: malformed template")

// Template is the competitive code of one palm region: for each of grid x grid
// points the orientation of the strongest dark line, stored as three bit planes
// so that the Hamming distance between two codes is their angular distance.
type Template struct {
	plane [planes][grid]uint32 // plane[p][row] bit col
}

// orientBits maps orientation 0..5 to its three bits; neighbouring
// orientations differ in one bit and opposite ones in all three.
var orientBits = [orients]uint8{0b000, 0b001, 0b011, 0b111, 0b110, 0b100}

// NewTemplate computes the competitive code of a Size x Size palm region.
// It holds a copy of the region's pixels while it works and zeroes it
// before it returns.
func NewTemplate(roi *image.Gray) (Template, error) {
	b := roi.Bounds()
	if b.Dx() != Size || b.Dy() != Size {
		return Template{}, fmt.Errorf("%w: got %dx%d", ErrSize, b.Dx(), b.Dy())
	}
	// The region as float64 with its border pixels replicated radius
	// deep, so that each filter window is a plain slice.
	px := make([]float64, padded*padded)
	defer clear(px)
	for y := range padded {
		row := roi.Pix[min(max(y-radius, 0), Size-1)*roi.Stride:]
		for x := range padded {
			px[y*padded+x] = float64(row[min(max(x-radius, 0), Size-1)])
		}
	}
	var t Template
	for gy := range grid {
		cy := gy*stride + stride/2
		for gx := range grid {
			cx := gx*stride + stride/2
			// All six filters in one pass over the window; each sums
			// its products in the same order as a filter on its own.
			var a0, a1, a2, a3, a4, a5 float64 // orients accumulators, in registers
			for y := range 2*radius + 1 {
				win := px[(cy+y)*padded+cx:][:2*radius+1]
				taps := &bankT[y]
				for x, v := range win {
					k := &taps[x]
					a0 += k[0] * v
					a1 += k[1] * v
					a2 += k[2] * v
					a3 += k[3] * v
					a4 += k[4] * v
					a5 += k[5] * v
				}
			}
			acc := [orients]float64{a0, a1, a2, a3, a4, a5}
			best := 0
			for o := 1; o < orients; o++ {
				if acc[o] < acc[best] {
					best = o
				}
			}
			code := orientBits[best]
			for p := range planes {
				t.plane[p][gy] |= uint32(code>>p&1) << gx
			}
		}
	}
	return t, nil
}

// padded is the side of the region with its replicated border.
const padded = Size + 2*radius

// NewTemplate keeps one accumulator per orientation in a register: six.
var _ = [1]int{}[orients-6]

type kernel [2*radius + 1][2*radius + 1]float64

// bankT is the filter bank every template is computed with, tap by tap:
// bankT[y][x][o] is filter o's weight at (x, y) of its window.
var bankT = transpose(filterBank())

func transpose(bank [orients]kernel) (t [2*radius + 1][2*radius + 1][orients]float64) {
	for o := range orients {
		for y := range 2*radius + 1 {
			for x := range 2*radius + 1 {
				t[y][x][o] = bank[o][y][x]
			}
		}
	}
	return t
}

// filterBank returns the real parts of six Gabor filters at orientations
// k*pi/6, made zero-mean so that flat brightness gives no response.
func filterBank() [orients]kernel {
	var bank [orients]kernel
	for o := range orients {
		th := float64(o) * math.Pi / orients
		c, s := math.Cos(th), math.Sin(th)
		k := &bank[o]
		var sum, wsum float64
		for y := -radius; y <= radius; y++ {
			for x := -radius; x <= radius; x++ {
				xr := float64(x)*c + float64(y)*s
				g := math.Exp(-float64(x*x+y*y) / (2 * sigma * sigma))
				v := g * math.Cos(2*math.Pi*xr/lambda)
				k[y+radius][x+radius] = v
				sum += v
				wsum += g
			}
		}
		for y := -radius; y <= radius; y++ {
			for x := -radius; x <= radius; x++ {
				g := math.Exp(-float64(x*x+y*y) / (2 * sigma * sigma))
				k[y+radius][x+radius] -= sum / wsum * g
			}
		}
	}
	return bank
}

// Similarity compares two templates: 1 means identical codes, 0 means no more
// agreement than two unrelated palms. It searches small translations and
// keeps the best alignment.
func Similarity(a, b Template) float64 {
	best := 1.0
	for dy := -maxShift; dy <= maxShift; dy++ {
		for dx := -maxShift; dx <= maxShift; dx++ {
			best = min(best, distance(&a, &b, dx, dy))
		}
	}
	// Unrelated codes differ by half the maximum angular distance on average.
	return max(0, 1-2*best)
}

// EnrolCaptures is how many captures an enrolment should keep: one capture
// can carry a misplaced palm region (touching fingers hide a valley), and a
// probe compared with the best of three is recognised right after
// enrolling.
const EnrolCaptures = 3

// BestSimilarity compares probe with every template of one enrolment and
// returns the highest Similarity (0 for an empty enrolment).
func BestSimilarity(enrolled []Template, probe Template) float64 {
	best := 0.0
	for _, t := range enrolled {
		best = max(best, Similarity(t, probe))
	}
	return best
}

// distance is the normalised angular distance between a at (x, y) and b at
// (x+dx, y+dy) over the overlapping points.
func distance(a, b *Template, dx, dy int) float64 {
	mask := ^uint32(0)
	if dx >= 0 {
		mask >>= dx
	} else {
		mask <<= -dx
	}
	diff, count := 0, 0
	for y := max(0, -dy); y < min(grid, grid-dy); y++ {
		for p := range planes {
			rb := b.plane[p][y+dy]
			if dx >= 0 {
				rb >>= dx
			} else {
				rb <<= -dx
			}
			diff += bits.OnesCount32((a.plane[p][y] ^ rb) & mask)
		}
		count += bits.OnesCount32(mask)
	}
	return float64(diff) / float64(planes*count)
}

// MarshalBinary encodes the template: "PCC", a version byte, the grid side,
// then the three bit planes row by row as little-endian uint32.
func (t Template) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, encLen)
	out = append(out, magic...)
	out = append(out, version, grid)
	for p := range planes {
		for _, row := range t.plane[p] {
			out = binary.LittleEndian.AppendUint32(out, row)
		}
	}
	return out, nil
}

// UnmarshalBinary decodes a template written by MarshalBinary. It rejects
// other lengths, versions and grid sizes, and bit patterns that encode no
// orientation.
func (t *Template) UnmarshalBinary(data []byte) error {
	if len(data) != encLen || string(data[:3]) != magic {
		return ErrFormat
	}
	if data[3] != version || data[4] != grid {
		return fmt.Errorf("%w: version %d grid %d", ErrFormat, data[3], data[4])
	}
	var n Template
	data = data[5:]
	for p := range planes {
		for y := range grid {
			n.plane[p][y] = binary.LittleEndian.Uint32(data[(p*grid+y)*4:])
		}
	}
	for y := range grid {
		// 0b010 and 0b101 are not orientations.
		bad := (^n.plane[2][y] & n.plane[1][y] & ^n.plane[0][y]) | (n.plane[2][y] & ^n.plane[1][y] & n.plane[0][y])
		if bad != 0 {
			return fmt.Errorf("%w: invalid code in row %d", ErrFormat, y)
		}
	}
	*t = n
	return nil
}
