package index

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/palmd/palmd/vision/match"
	"github.com/palmd/palmd/vision/roi"
	"github.com/palmd/palmd/vision/synth"
)

// The test data are matcher templates of synthetic palms (vision/synth,
// genuine presentation, condition good, lit frame 0, through vision/roi),
// 389 bytes each, gzipped:
//
//   - testdata/pairs.bin.gz: identities "idx-0".."idx-1499", two captures
//     each (seeds 7000 and 7001), one after the other; a capture whose
//     palm region was not found is 389 zero bytes.
//   - testdata/heldout.bin.gz: identities "held-0".."held-3199", made the
//     same way, after the index's constants were chosen on pairs.bin.gz:
//     the held-out pairs its recall is reported on.
//   - testdata/base.bin.gz: identities "base-0".."base-499", one capture
//     each (seed 7000): the material of the filler templates.
//
// Rendering one costs about 0.2 s here, so they are made once with
// go test ./uplink/cloud/index -run TestGenerate -generate (about 8
// minutes on two cores).
var generate = flag.Bool("generate", false, "make the missing testdata/*.bin.gz from vision/synth")

func TestGenerate(t *testing.T) {
	if !*generate {
		t.Skip("run with -generate to rewrite the test data")
	}
	write := func(name, prefix string, people, takes int) {
		if _, err := os.Stat("testdata/" + name); err == nil {
			t.Logf("testdata/%s exists: kept (delete it to make it again)", name)
			return
		}
		out := make([][]byte, people*takes)
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := roi.NewExtractor()
				defer e.Close()
				frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
				region := image.NewGray(image.Rect(0, 0, match.Size, match.Size))
				for p := w; p < people; p += 2 {
					for s := range takes {
						c := synth.Capture{Identity: synth.IdentityOf(fmt.Sprint(prefix, p)), Seed: uint64(7000 + s)}
						synth.NewScene(c).Render(frame, 0, true)
						out[p*takes+s] = make([]byte, 389)
						if e.Extract(frame, nil, region) != nil {
							continue
						}
						tp, err := match.NewTemplate(region)
						if err != nil {
							continue
						}
						out[p*takes+s], _ = tp.MarshalBinary()
					}
				}
			}()
		}
		wg.Wait()
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.Join(out, nil))
		zw.Close()
		if err := os.WriteFile("testdata/"+name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pairs.bin.gz", "idx-", 1500, 2)
	write("base.bin.gz", "base-", 500, 1)
	write("heldout.bin.gz", "held-", 3200, 2)
}

// load reads a testdata file of templates; zero records become nil.
func load(tb testing.TB, name string) []*match.Template {
	tb.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	var out []*match.Template
	for ; len(b) >= 389; b = b[389:] {
		t := new(match.Template)
		if t.UnmarshalBinary(b[:389]) != nil {
			t = nil
		}
		out = append(out, t)
	}
	return out
}

// genuine is an enrolled template and a later capture of the same palm.
type genuine struct{ enrolled, probe match.Template }

// pairs returns the genuine pairs whose two captures the matcher itself
// matches (Similarity at or above the threshold): the pairs an exhaustive
// search finds.
func pairs(tb testing.TB, name string) []genuine {
	all := load(tb, name)
	var out []genuine
	for i := 0; i+1 < len(all); i += 2 {
		a, b := all[i], all[i+1]
		if a != nil && b != nil && match.Similarity(*a, *b) >= match.Threshold {
			out = append(out, genuine{*a, *b})
		}
	}
	return out
}

// fillers returns n impostor templates made from the base palms: each
// takes its four quadrants from four different base palms drawn at random,
// so it has the local structure of a palm (and its orientation
// statistics) without being any enrolled person. Plain random codes would
// be far easier to tell apart than palms.
func fillers(tb testing.TB, n int, seed uint64) []match.Template {
	base := load(tb, "base.bin.gz")
	var fields [][fine][fine]int8
	for _, t := range base {
		if t != nil {
			fields = append(fields, field(*t))
		}
	}
	r := rand.New(rand.NewPCG(seed, 11))
	out := make([]match.Template, n)
	for i := range out {
		var q [4]int
		for k := range q {
			q[k] = r.IntN(len(fields))
		}
		var f [fine][fine]int8
		for y := range fine {
			for x := range fine {
				f[y][x] = fields[q[y/16*2+x/16]][y][x]
			}
		}
		out[i] = fromField(tb, &f)
	}
	return out
}

// fromField encodes an orientation field as a template.
func fromField(tb testing.TB, f *[fine][fine]int8) match.Template {
	b := make([]byte, 5+planes*fine*4)
	copy(b, "PCC\x01\x20")
	for y := range fine {
		for x := range fine {
			o := max(f[y][x], 0)
			c := orientBits[o]
			for p := range planes {
				b[5+(p*fine+y)*4+x/8] |= (c >> p & 1) << (x % 8)
			}
		}
	}
	var t match.Template
	if err := t.UnmarshalBinary(b); err != nil {
		tb.Fatal(err)
	}
	return t
}
