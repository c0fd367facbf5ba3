package roi

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/palmd/palmd/vision/match"
	"github.com/palmd/palmd/vision/synth"
	"gocv.io/x/gocv"
	"golang.org/x/sys/unix"
)

func newROI() *image.Gray { return image.NewGray(image.Rect(0, 0, Size, Size)) }

// frames memoises what render and renderPair draw, for the whole test
// binary: drawing is deterministic, and it took most of this package's time
// under go test -race -count=N. Callers never write to what they get.
var frames sync.Map // frameKey -> *image.Gray

type frameKey struct {
	c   synth.Capture
	lit bool
}

// render draws the lit frame 0 of a synthetic capture.
func render(c synth.Capture) *image.Gray {
	lit, _ := renderPair(c)
	return lit
}

// renderPair draws the lit and unlit frames of pair 0 of a synthetic
// capture.
func renderPair(c synth.Capture) (lit, unlit *image.Gray) {
	l, okL := frames.Load(frameKey{c, true})
	u, okU := frames.Load(frameKey{c, false})
	if okL && okU {
		return l.(*image.Gray), u.(*image.Gray)
	}
	scene := synth.NewScene(c)
	lit = image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	unlit = image.NewGray(lit.Rect)
	scene.Render(lit, 0, true)
	scene.Render(unlit, 0, false)
	l, _ = frames.LoadOrStore(frameKey{c, true}, lit)
	u, _ = frames.LoadOrStore(frameKey{c, false}, unlit)
	return l.(*image.Gray), u.(*image.Gray)
}

func good(name string, seed uint64) synth.Capture {
	return synth.Capture{Identity: synth.IdentityOf(name), Seed: seed, Presentation: synth.Genuine, Condition: synth.Good}
}

func TestSizeMatchesMatcher(t *testing.T) {
	if Size != match.Size {
		t.Fatalf("roi.Size %d != match.Size %d", Size, match.Size)
	}
}

// TestExtractGood: the palm is found on at least 99 % of good genuine
// captures.
func TestExtractGood(t *testing.T) {
	skipUnderRace(t)
	n := 100
	if testing.Short() {
		n = 25
	}
	e := NewExtractor()
	defer e.Close()
	dst := newROI()
	failed := 0
	for i := range n {
		c := good(fmt.Sprintf("good-%d", i), uint64(1000+i))
		if err := e.Extract(render(c), nil, dst); err != nil {
			t.Logf("capture %d: %v", i, err)
			failed++
		}
	}
	t.Logf("palm found on %d/%d good captures", n-failed, n)
	if failed > n/100 {
		t.Fatalf("palm not found on %d/%d good captures, want at most %d", failed, n, n/100)
	}
}

// TestExtractSamePalm: the regions of one person's captures match each other
// and not other people's.
func TestExtractSamePalm(t *testing.T) {
	skipUnderRace(t)
	people, takes := 6, 3
	if testing.Short() {
		people = 4
	}
	e := NewExtractor()
	defer e.Close()
	tpl := make([][]match.Template, people)
	for p := range people {
		for s := range takes {
			dst := newROI()
			if err := e.Extract(render(good(fmt.Sprintf("same-%d", p), uint64(50+s))), nil, dst); err != nil {
				t.Fatalf("person %d take %d: %v", p, s, err)
			}
			tp, err := match.NewTemplate(dst)
			if err != nil {
				t.Fatal(err)
			}
			tpl[p] = append(tpl[p], tp)
		}
	}
	var genuine, impostor []float64
	for p := range tpl {
		for q := p; q < len(tpl); q++ {
			for i, a := range tpl[p] {
				for j, b := range tpl[q] {
					switch {
					case p == q && i < j:
						genuine = append(genuine, match.Similarity(a, b))
					case p != q:
						impostor = append(impostor, match.Similarity(a, b))
					}
				}
			}
		}
	}
	slices.Sort(genuine)
	slices.Sort(impostor)
	medG, maxI := genuine[len(genuine)/2], impostor[len(impostor)-1]
	t.Logf("same palm: median %.3f min %.3f; other palms: median %.3f max %.3f",
		medG, genuine[0], impostor[len(impostor)/2], maxI)
	if medG < 2*maxI || medG < match.Threshold+0.15 {
		t.Fatalf("same-palm median similarity %.3f not well above other-palm max %.3f", medG, maxI)
	}
	if maxI >= match.Threshold {
		t.Fatalf("other palms reach %.3f, above the match threshold %.2f", maxI, match.Threshold)
	}
}

// TestExtractRotation: a drawn hand turned, moved, scaled and spread gives
// the same region; another drawn hand does not.
func TestExtractRotation(t *testing.T) {
	skipUnderRace(t)
	e := NewExtractor()
	defer e.Close()
	ref := newROI()
	if err := e.Extract(drawHand(1, pose{640, 480, 250, 0, 1}, 1), nil, ref); err != nil {
		t.Fatal(err)
	}
	a, _ := match.NewTemplate(ref)
	tests := []struct {
		name string
		id   uint64
		p    pose
		same bool
	}{
		{"left 20°", 1, pose{620, 470, 250, -0.35, 1}, true},
		{"right 20°", 1, pose{660, 490, 250, 0.35, 1}, true},
		{"smaller, spread", 1, pose{600, 500, 210, 0.1, 1.6}, true},
		{"larger, closed", 1, pose{650, 460, 280, -0.1, 0.6}, true},
		{"other hand", 2, pose{640, 480, 250, 0, 1}, false},
		{"other hand turned", 3, pose{620, 470, 250, 0.3, 1.2}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := newROI()
			if err := e.Extract(drawHand(tt.id, tt.p, uint64(2+i)), nil, dst); err != nil {
				t.Fatal(err)
			}
			b, _ := match.NewTemplate(dst)
			if s := match.Similarity(a, b); (s >= match.Threshold) != tt.same {
				t.Fatalf("similarity to the upright hand %.3f, threshold %.2f, want same=%v", s, match.Threshold, tt.same)
			}
		})
	}
}

func TestExtractNotFound(t *testing.T) {
	skipUnderRace(t)
	noise := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(20 + r.IntN(8))
	}
	bright := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	for i := range bright.Pix {
		bright.Pix[i] = 200
	}
	tests := []struct {
		name  string
		frame *image.Gray
	}{
		{"black", image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))},
		{"sensor noise", noise},
		{"uniform bright", bright},
		{"tiny frame", image.NewGray(image.Rect(0, 0, 20, 20))},
		{"palm off the left edge", drawHand(1, pose{60, 450, 260, 0, 1}, 1)},
	}
	for s := range uint64(4) {
		c := good("partly-out", 300+s)
		c.Condition = synth.PartlyOut
		tests = append(tests, struct {
			name  string
			frame *image.Gray
		}{fmt.Sprintf("synth partly out %d", s), render(c)})
	}
	e := NewExtractor()
	defer e.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Extract(tt.frame, nil, newROI()); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Extract error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestExtractDestinationSize(t *testing.T) {
	e := NewExtractor()
	defer e.Close()
	for _, r := range []image.Rectangle{image.Rect(0, 0, 64, 64), image.Rect(0, 0, Size, Size+1), {}} {
		if err := e.Extract(render(good("size", 1)), nil, image.NewGray(r)); !errors.Is(err, ErrSize) {
			t.Errorf("dst %v: error %v, want ErrSize", r, err)
		}
	}
}

// TestExtractWipes: no copy of the frame survives Extract.
func TestExtractWipes(t *testing.T) {
	e := NewExtractor()
	defer e.Close()
	dst := newROI()
	if err := e.ExtractBurst([]*image.Gray{render(good("wipe", 1)), render(good("wipe", 1))}, nil, dst); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(dst.Pix, func(v uint8) bool { return v != 0 }) {
		t.Fatal("the palm region is blank")
	}
	for _, m := range []struct {
		name string
		pix  func() ([]uint8, error)
	}{
		{"frame", e.frame.DataPtrUint8}, {"small", e.small.DataPtrUint8}, {"mask", e.bin.DataPtrUint8},
		{"region", e.big.DataPtrUint8}, {"output", e.out.DataPtrUint8},
	} {
		pix, err := m.pix()
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(pix, func(v uint8) bool { return v != 0 }); i >= 0 {
			t.Errorf("%s buffer not zeroed (byte %d)", m.name, i)
		}
	}
	for _, m := range []struct {
		name string
		mat  *gocv.Mat
	}{
		{"reference frame's copy", &e.ref}, {"other frame's copy", &e.cur}, {"one region", &e.cut32}, {"regions' sum", &e.sum},
	} {
		pix, err := m.mat.DataPtrFloat32()
		if err != nil {
			t.Fatal(err)
		}
		if len(pix) == 0 {
			t.Errorf("%s buffer unused", m.name)
		}
		if i := slices.IndexFunc(pix, func(v float32) bool { return v != 0 }); i >= 0 {
			t.Errorf("%s buffer not zeroed (value %d)", m.name, i)
		}
	}
	if len(e.placed) == 0 {
		t.Error("no placement recorded")
	}
	for i, p := range e.placed {
		if p != (placed{}) {
			t.Errorf("placement %d not zeroed: %+v", i, p)
		}
	}
}

// TestWorkspaceHoldsTheBuffers: an Extractor in memory of WorkspaceSize
// keeps every copy of the frames there, cuts the region one on the heap
// cuts, and leaves the memory all zero when ExtractBurst returns.
func TestWorkspaceHoldsTheBuffers(t *testing.T) {
	lit1, unlit := renderPair(good("workspace", 3))
	lit2, _ := renderPair(good("workspace", 3))
	lit := []*image.Gray{lit1, lit2}
	size := lit1.Bounds().Size()
	mem, err := unix.Mmap(-1, 0, WorkspaceSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	e := NewExtractorIn(mem)
	defer e.Close()
	heap := NewExtractor()
	defer heap.Close()
	want, got := newROI(), newROI()
	if err := heap.ExtractBurst(lit, unlit, want); err != nil {
		t.Fatal(err)
	}
	if err := e.ExtractBurst(lit, unlit, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Pix, want.Pix) {
		t.Error("the region cut in the workspace differs from the heap's")
	}
	if n := e.space.Fallbacks(); n != 0 || e.size != size {
		t.Fatalf("%d buffers outside the workspace (laid out for %v, frames %v)", n, e.size, size)
	}
	for i, m := range e.frameMats() {
		if p, _ := m.DataPtrUint8(); len(p) == 0 || !e.space.Contains(unsafe.Pointer(&p[0]), len(p)) {
			t.Errorf("buffer %d (%dx%d) is not in the workspace: OpenCV reallocated it", i, m.Cols(), m.Rows())
		}
	}
	if i := slices.IndexFunc(mem, func(v byte) bool { return v != 0 }); i >= 0 {
		t.Errorf("workspace byte %d of %d is %d after ExtractBurst, want every byte zero", i, len(mem), mem[i])
	}
}

// TestExtractSubImage: frames and destinations may be sub-images.
func TestExtractSubImage(t *testing.T) {
	frame := render(good("sub", 2))
	big := image.NewGray(image.Rect(0, 0, synth.Width+40, synth.Height+20))
	for y := range synth.Height {
		copy(big.Pix[(y+10)*big.Stride+30:], frame.Pix[y*frame.Stride:(y+1)*frame.Stride])
	}
	sub := big.SubImage(image.Rect(30, 10, 30+synth.Width, 10+synth.Height)).(*image.Gray)
	e := NewExtractor()
	defer e.Close()
	want, got := newROI(), image.NewGray(image.Rect(0, 0, Size+8, Size+8))
	gotSub := got.SubImage(image.Rect(4, 4, 4+Size, 4+Size)).(*image.Gray)
	if err := e.Extract(frame, nil, want); err != nil {
		t.Fatal(err)
	}
	if err := e.Extract(sub, nil, gotSub); err != nil {
		t.Fatal(err)
	}
	for y := range Size {
		if !slices.Equal(want.Pix[y*Size:(y+1)*Size], gotSub.Pix[y*gotSub.Stride:y*gotSub.Stride+Size]) {
			t.Fatalf("row %d differs between a frame and the same frame as a sub-image", y)
		}
	}
}

// BenchmarkExtract: one lit frame and an unlit frame, and the firmware's
// cut from a burst's six lit frames (the hand moving between them) and its
// unlit frame.
func BenchmarkExtract(b *testing.B) {
	scene := synth.NewScene(good("bench", 1))
	unlit := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	scene.Render(unlit, 0, false)
	lit := make([]*image.Gray, 6)
	for i := range lit {
		lit[i] = image.NewGray(unlit.Rect)
		scene.Render(lit[i], i, true)
	}
	e := NewExtractor()
	defer e.Close()
	dst := newROI()
	for _, bb := range []struct {
		name string
		lit  []*image.Gray
	}{{"frame", lit[:1]}, {"burst", lit}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.ExtractBurst(bb.lit, unlit, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExtractOnTheLEDResponse: a sunlit ceiling behind the hand, as bright
// as the palm, hides the hand in the lit frame; the LED response (lit -
// unlit) still shows it, and the region is the one the dark room gives.
func TestExtractOnTheLEDResponse(t *testing.T) {
	lit, unlit := renderPair(good("sunlit-ceiling", 3))
	lit, unlit = clone(lit), clone(unlit) // the ceiling is painted on them below
	e := NewExtractor()
	defer e.Close()
	want := newROI()
	if err := e.Extract(lit, nil, want); err != nil {
		t.Fatalf("dark room: %v", err)
	}
	// The ceiling: every pixel the LEDs do not reach gets the palm's level
	// in both frames.
	for i := range lit.Pix {
		if int(lit.Pix[i])-int(unlit.Pix[i]) < 20 {
			v := uint8(150 + i%5)
			lit.Pix[i], unlit.Pix[i] = v, v
		}
	}
	got := newROI()
	if err := e.Extract(lit, nil, got); err == nil && meanAbsDiff(got, want) < 5 {
		t.Errorf("lit frame alone found the same region in front of a bright ceiling: the test shows nothing")
	}
	if err := e.Extract(lit, unlit, got); err != nil {
		t.Fatalf("on the LED response: %v", err)
	}
	if d := meanAbsDiff(got, want); d > 5 {
		t.Errorf("region on the LED response differs from the dark room's by %.1f grey levels on average, want <= 5 (the hand found a little differently)", d)
	}
}

// clone returns a copy of img that a test may write to.
func clone(img *image.Gray) *image.Gray {
	c := image.NewGray(img.Rect)
	copy(c.Pix, img.Pix)
	return c
}

func meanAbsDiff(a, b *image.Gray) float64 {
	var s int
	for i := range a.Pix {
		s += max(int(a.Pix[i])-int(b.Pix[i]), int(b.Pix[i])-int(a.Pix[i]))
	}
	return float64(s) / float64(len(a.Pix))
}

// TestExtractBurstAverages: the frames of a burst, moved by the hand's
// tremor and each with its own sensor noise, are registered and averaged:
// four frames bring the region about twice as close to the noise-free one
// as one frame does. Without the registration the shifts would blur it
// instead.
func TestExtractBurstAverages(t *testing.T) {
	clean := render(good("burst", 3))
	rng := rand.New(rand.NewPCG(3, 4))
	// noisy is clean moved by (dx, dy) pixels with Gaussian noise of 12
	// grey levels added.
	noisy := func(dx, dy int) *image.Gray {
		f := image.NewGray(clean.Rect)
		w, h := clean.Rect.Dx(), clean.Rect.Dy()
		for y := range h {
			for x := range w {
				v := float64(clean.Pix[min(max(y-dy, 0), h-1)*w+min(max(x-dx, 0), w-1)]) + 12*rng.NormFloat64()
				f.Pix[y*w+x] = uint8(min(max(v, 0), 255))
			}
		}
		return f
	}
	burst := []*image.Gray{noisy(0, 0), noisy(4, 1), noisy(-3, 3), noisy(1, -4)}
	e := NewExtractor()
	defer e.Close()
	want, one, avg := newROI(), newROI(), newROI()
	if err := e.Extract(clean, nil, want); err != nil {
		t.Fatal(err)
	}
	if err := e.Extract(burst[0], nil, one); err != nil {
		t.Fatal(err)
	}
	if err := e.ExtractBurst(burst, nil, avg); err != nil {
		t.Fatal(err)
	}
	d1, d4 := rmsDiff(one, want), rmsDiff(avg, want)
	t.Logf("rms difference from the noise-free region: one frame %.2f, four %.2f", d1, d4)
	if d4 > 0.55*d1 {
		t.Errorf("four frames %.2f grey levels from the noise-free region, one frame %.2f: want at most 0.55 times (1/sqrt(4) = 0.5)", d4, d1)
	}

	// A frame of another size is left out.
	odd := image.NewGray(image.Rect(0, 0, 320, 200))
	again := newROI()
	if err := e.ExtractBurst([]*image.Gray{burst[0], odd}, nil, again); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Pix, one.Pix) {
		t.Error("a frame of another size changed the region")
	}
	if err := e.ExtractBurst(nil, nil, again); !errors.Is(err, ErrNotFound) {
		t.Errorf("no frame: error %v, want ErrNotFound", err)
	}
}

func rmsDiff(a, b *image.Gray) float64 {
	var s float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a.Pix)))
}

// TestFlattenRemovesShading: light that varies smoothly across the palm
// (the LEDs' fall-off, the palm's relief; even filters answer its
// curvature as they answer a line) is taken out of the region, and the
// lines are kept: lines with and without a curved shading added give the
// same region but for its mean level, away from its border.
func TestFlattenRemovesShading(t *testing.T) {
	e := NewExtractor()
	defer e.Close()
	const n = 2 * Size
	r := rand.New(rand.NewPCG(5, 5))
	type seg struct{ a, b [2]float64 }
	segs := make([]seg, 12)
	for i := range segs {
		x, y, a, l := r.Float64()*n, r.Float64()*n, r.Float64()*math.Pi, 40+r.Float64()*100
		segs[i] = seg{[2]float64{x, y}, [2]float64{x + l*math.Cos(a), y + l*math.Sin(a)}}
	}
	region := func(shading float64) []int {
		pix, err := e.sum.DataPtrFloat32()
		if err != nil {
			t.Fatal(err)
		}
		for y := range n {
			for x := range n {
				v := 120.0
				for _, s := range segs {
					d := segDist(float64(x), float64(y), s.a, s.b)
					v -= 20 * math.Exp(-d*d/32)
				}
				dx, dy := float64(x)/n-0.3, float64(y)/n-0.6
				pix[y*n+x] = float32(v + shading*(1-3*dx*dx-dy*dy+dx*dy))
			}
		}
		e.flatten()
		big, err := e.big.DataPtrUint8()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int, len(big))
		for i, v := range big {
			out[i] = int(v)
		}
		return out
	}
	lines, shaded := region(0), region(60)
	// The mean level differs; the rest must not, inside a border as wide
	// as the blur.
	const border = int(3 * 2 * shadeSigma)
	var diffs []int
	for y := border; y < n-border; y++ {
		for x := border; x < n-border; x++ {
			diffs = append(diffs, shaded[y*n+x]-lines[y*n+x])
		}
	}
	slices.Sort(diffs)
	lo, hi := diffs[len(diffs)/100], diffs[len(diffs)*99/100]
	if hi-lo > 2 {
		t.Errorf("with the shading added the region changes by %d to %d grey levels (1st to 99th percentile), want within 2 of each other", lo, hi)
	}
}

// TestExtractBurstPlacement gives ExtractBurst bursts mixing frames that
// hide the valleys between the fingers (drawn as a mitten) with frames
// that show them: the region goes where most frames place it, and where
// the most landmarks place it between equals.
func TestExtractBurstPlacement(t *testing.T) {
	skipUnderRace(t)
	p := pose{640, 480, 250, 0, 1}
	open := drawHand(1, p, 1)
	mitten := drawHand(1, p, 2)
	// Fill the gaps between the fingers up to half their length.
	for y := int(p.cy - 1.0*p.width); y < int(p.cy-0.4*p.width); y++ {
		for x := int(p.cx - 0.42*p.width); x < int(p.cx+0.42*p.width); x++ {
			mitten.Pix[y*mitten.Stride+x] = 180
		}
	}
	e := NewExtractor()
	defer e.Close()
	byValleys, byAxis := newROI(), newROI()
	if err := e.Extract(open, nil, byValleys); err != nil {
		t.Fatal(err)
	}
	if err := e.Extract(mitten, nil, byAxis); err != nil {
		t.Fatal(err)
	}
	apart := meanAbsDiff(byAxis, byValleys)
	tests := []struct {
		name  string
		burst []*image.Gray
		want  *image.Gray
	}{
		{"one each, valleys hidden first", []*image.Gray{mitten, open}, byValleys},
		{"one each, valleys shown first", []*image.Gray{open, mitten}, byValleys},
		{"most show the valleys", []*image.Gray{mitten, open, open}, byValleys},
		{"most hide them", []*image.Gray{open, mitten, mitten}, byAxis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newROI()
			if err := e.ExtractBurst(tt.burst, nil, got); err != nil {
				t.Fatal(err)
			}
			d := meanAbsDiff(got, tt.want)
			t.Logf("mean difference from the expected placement's region %.2f grey levels (the two placements' %.2f apart)", d, apart)
			if d > apart/3 {
				t.Errorf("region %.2f grey levels from the expected placement's (the two placements' %.2f apart): placed wrongly", d, apart)
			}
		})
	}
}
