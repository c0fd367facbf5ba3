package quality

import (
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"math/rand/v2"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// palm draws a hand-made lit frame: a textured bright ellipse (radii rx, ry)
// centred at (cx, cy) on a dark noisy background. level is the palm's mean
// grey level and texture the amplitude of its fine stripes (0 = smooth).
func palm(cx, cy, rx, ry int, level, texture uint8, seed uint64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 1280, 800))
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := range 800 {
		for x := range 1280 {
			v := 15 + rng.IntN(6)
			dx, dy := float64(x-cx)/float64(rx), float64(y-cy)/float64(ry)
			if dx*dx+dy*dy <= 1 {
				v = int(level) + rng.IntN(3)
				if (x/8+y/12)%2 == 0 {
					v -= int(texture)
				}
			}
			img.Pix[y*img.Stride+x] = uint8(min(255, max(0, v)))
		}
	}
	return img
}

// smear blurs img horizontally over n pixels, as motion within the
// exposure does.
func smear(img *image.Gray, n int) *image.Gray {
	out := image.NewGray(img.Rect)
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride : (y+1)*img.Stride]
		for x := range row {
			s := 0
			for k := range n {
				s += int(row[min(x+k, len(row)-1)])
			}
			out.Pix[y*out.Stride+x] = uint8(s / n)
		}
	}
	return out
}

func TestCheckAtDistance(t *testing.T) {
	g := NewGate()
	defer g.Close()
	good := palm(640, 400, 260, 300, 170, 30, 1)
	for _, tt := range []struct {
		mm   int
		want Reason
	}{
		{0, OK}, {150, OK}, {50, TooClose}, {300, TooFar},
		{240, NoPalm}, // a 138 mm "palm" at that distance is no hand
	} {
		if v := g.CheckAt(good, nil, tt.mm); v.Reason != tt.want {
			t.Errorf("CheckAt(%d mm) = %q, want %q; %+v", tt.mm, v.Reason, tt.want, v.Scores)
		}
	}
}

func TestCheck(t *testing.T) {
	good := palm(640, 400, 260, 300, 170, 30, 1)
	tests := []struct {
		name   string
		frames []*image.Gray
		want   Reason
	}{
		{"empty", []*image.Gray{image.NewGray(image.Rect(0, 0, 1280, 800))}, NoPalm},
		{"noise only", []*image.Gray{palm(-9999, -9999, 1, 1, 0, 0, 13)}, NoPalm},
		{"first frame", []*image.Gray{good}, OK},
		{"good", []*image.Gray{good, palm(641, 400, 260, 300, 170, 30, 2)}, OK},
		{"too far", []*image.Gray{palm(640, 400, 90, 100, 170, 30, 3), palm(640, 400, 90, 100, 170, 30, 4)}, TooFar},
		{"too close", []*image.Gray{palm(640, 400, 600, 500, 170, 30, 5)}, TooClose},
		{"off centre", []*image.Gray{palm(300, 250, 200, 230, 170, 30, 6)}, OffCentre},
		{"partly out", []*image.Gray{palm(640, 760, 220, 260, 170, 30, 7)}, OffCentre},
		{"moving but sharp", []*image.Gray{good, palm(700, 420, 260, 300, 170, 30, 8)}, OK},
		// A blur is Moving when the palm moved since the previous frame by
		// more than a hovering hand does (minShift: 0.008 of the width,
		// 10 px here), Blurred when it did not or when there is no
		// previous frame to tell.
		{"motion blur", []*image.Gray{smear(palm(600, 400, 260, 300, 170, 30, 14), 48), smear(palm(640, 400, 260, 300, 170, 30, 15), 48)}, Moving},
		{"motion blur, first frame", []*image.Gray{smear(palm(640, 400, 260, 300, 170, 30, 14), 48)}, Blurred},
		{"blur, slow drift", []*image.Gray{smear(palm(636, 400, 260, 300, 170, 30, 14), 48), smear(palm(640, 400, 260, 300, 170, 30, 15), 48)}, Blurred},
		{"blurred", []*image.Gray{palm(640, 400, 260, 300, 170, 0, 9), palm(640, 400, 260, 300, 170, 0, 10)}, Blurred},
		{"dark", []*image.Gray{palm(640, 400, 260, 300, 50, 10, 11)}, TooDark},
		{"bright", []*image.Gray{palm(640, 400, 260, 300, 255, 3, 12)}, TooBright},
	}
	g := NewGate()
	defer g.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.Reset()
			var v Verdict
			for _, f := range tt.frames {
				v = g.Check(f)
			}
			if v.Reason != tt.want || v.OK != (tt.want == OK) {
				t.Errorf("Check = %q (OK %v), want %q; scores %+v", v.Reason, v.OK, tt.want, v.Scores)
			}
			if v.Guidance != tt.want.Guidance() || v.Guidance == "" {
				t.Errorf("Guidance = %q, want %q", v.Guidance, tt.want.Guidance())
			}
		})
	}
}

func TestCheckOtherSizesAndOffsets(t *testing.T) {
	g := NewGate()
	defer g.Close()
	// A sub-image whose bounds do not start at the origin, and a smaller
	// frame, must both be measured like the full frame.
	big := palm(640, 400, 130, 150, 170, 30, 20)
	sub := big.SubImage(image.Rect(320, 200, 960, 600)).(*image.Gray)
	small := image.NewGray(image.Rect(0, 0, 640, 400))
	for y := range 400 {
		copy(small.Pix[y*small.Stride:(y+1)*small.Stride], sub.Pix[sub.PixOffset(320, 200+y):])
	}
	g.Check(big)
	a := g.Check(sub)
	if a.Scores.Motion != -1 {
		t.Errorf("Motion after a size change = %v, want -1 (motion restarts)", a.Scores.Motion)
	}
	b := g.Check(small)
	if a.Scores.Area != b.Scores.Area || a.Scores.Offset != b.Scores.Offset || b.Scores.Motion != 0 {
		t.Errorf("sub-image scores %+v differ from copied frame %+v", a.Scores, b.Scores)
	}
}

// TestGlare: a palm the LEDs saturate (turned towards them, or held
// close) is told to lie flat and rise; one the room's light saturates
// (sun on the scanner) to be shaded. Without an unlit frame the gate
// cannot tell them apart and asks for shade.
func TestGlare(t *testing.T) {
	g := NewGate()
	defer g.Close()
	lit := palm(640, 400, 260, 300, 255, 3, 30)
	for _, tt := range []struct {
		name  string
		unlit *image.Gray
		want  Reason
		glare float64
	}{
		{"LEDs saturate, room dark", palm(640, 400, 260, 300, 20, 0, 31), Glare, 1},
		{"room light past half of saturation", palm(640, 400, 260, 300, 140, 0, 32), TooBright, 0},
		{"no unlit frame", nil, TooBright, -1},
	} {
		g.Reset()
		v := g.CheckAt(lit, tt.unlit, 150)
		if v.Reason != tt.want || v.Guidance != tt.want.Guidance() || v.Scores.Glare != tt.glare {
			t.Errorf("%s: %q (%q), Glare %v, want %q and Glare %v; %+v", tt.name, v.Reason, v.Guidance, v.Scores.Glare, tt.want, tt.glare, v.Scores)
		}
	}
}

// TestReasonsListsEveryReason reads this package's source: every constant
// of type Reason must be in Reasons, once, so that a new one reaches the
// evaluation's tables and the kiosk's screens.
func TestReasonsListsEveryReason(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "quality.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); ok && id.Name == "Reason" {
				for _, n := range v.Names {
					declared = append(declared, n.Name)
				}
			}
		}
	}
	if len(declared) != NumReasons {
		t.Errorf("quality.go declares %d Reason constants %v, NumReasons is %d", len(declared), declared, NumReasons)
	}
	listed := map[Reason]int{}
	for _, r := range Reasons() {
		listed[r]++
	}
	if len(listed) != NumReasons {
		t.Errorf("Reasons() repeats a reason: %v", Reasons())
	}
}

func TestGuidanceDistinct(t *testing.T) {
	seen := map[string]Reason{}
	for _, r := range Reasons() {
		g := r.Guidance()
		if prev, dup := seen[g]; dup {
			t.Errorf("%q and %q share guidance %q", prev, r, g)
		}
		seen[g] = r
	}
}

func BenchmarkCheck(b *testing.B) {
	g := NewGate()
	defer g.Close()
	frames := []*image.Gray{palm(640, 400, 260, 300, 170, 30, 1), palm(641, 401, 260, 300, 170, 30, 2)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		g.Check(frames[i%2])
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	g := NewGate()
	defer g.Close()
	frames := []*image.Gray{palm(640, 400, 260, 300, 170, 30, 1), palm(641, 401, 260, 300, 170, 30, 2)}
	i := 0
	if n := testing.AllocsPerRun(20, func() { g.Check(frames[i%2]); i++ }); n != 0 {
		t.Errorf("Check allocates %v times per frame, want 0", n)
	}
}

// The signed offsets say which way the palm is off: the display draws the
// hand where it is.
func TestOffsetDirection(t *testing.T) {
	tests := []struct {
		name         string
		cx, cy       int
		wantX, wantY int // sign of OffsetX, OffsetY
	}{
		{"centre", 640, 400, 0, 0},
		{"left and up", 400, 250, -1, -1},
		{"right and down", 880, 550, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGate()
			defer g.Close()
			s := g.Check(palm(tt.cx, tt.cy, 130, 150, 170, 30, 3)).Scores
			sign := func(v float64) int {
				switch {
				case v > 0.05:
					return 1
				case v < -0.05:
					return -1
				}
				return 0
			}
			if sign(s.OffsetX) != tt.wantX || sign(s.OffsetY) != tt.wantY {
				t.Errorf("offset (%.2f, %.2f), want signs (%d, %d)", s.OffsetX, s.OffsetY, tt.wantX, tt.wantY)
			}
			// 240 px of 640 (half-width) right is 0.375.
			if tt.wantX != 0 && (abs(s.OffsetX) < 0.3 || abs(s.OffsetX) > 0.45) {
				t.Errorf("OffsetX = %.2f, want about ±0.375", s.OffsetX)
			}
		})
	}
}

func abs(v float64) float64 { return max(v, -v) }

// TestSegmentsTheLEDResponse: behind a sunlit hand the ceiling can be as
// bright as the palm in the lit frame; the LEDs' light falls with distance
// squared and does not reach it, so the gate finds the palm on lit - unlit.
func TestSegmentsTheLEDResponse(t *testing.T) {
	lit := palm(640, 400, 260, 300, 170, 30, 1)
	unlit := palm(640, 400, 260, 300, 40, 8, 2)
	for _, img := range []*image.Gray{lit, unlit} {
		for y := range 800 {
			for x := range 1280 {
				dx, dy := float64(x-640)/260, float64(y-400)/300
				if dx*dx+dy*dy > 1 {
					img.Pix[y*img.Stride+x] = uint8(165 + (x+y)%7) // the sunlit ceiling
				}
			}
		}
	}
	g := NewGate()
	defer g.Close()
	if v := g.CheckAt(lit, nil, 150); v.OK {
		t.Errorf("lit frame alone: %q, want a refusal (the ceiling is as bright as the palm); %+v", v.Reason, v.Scores)
	}
	v := g.CheckAt(lit, unlit, 150)
	if !v.OK {
		t.Errorf("with the unlit frame: %q, want OK; %+v", v.Reason, v.Scores)
	}
	if v.Scores.Brightness < 150 || v.Scores.Brightness > 165 {
		t.Errorf("Brightness = %.1f, want the lit palm's mean (about 156)", v.Scores.Brightness)
	}
}

func TestNotPalmSized(t *testing.T) {
	for _, tt := range []struct {
		palmMM float64
		want   bool
	}{
		{0, false}, // distance not measured
		{15, true}, // a phone's mirror images of the LEDs
		{39.9, true},
		{40, false},
		{84, false},
		{120, false},
		{121, true}, // a sheet larger than any palm
	} {
		if got := (Scores{PalmMM: tt.palmMM}).NotPalmSized(); got != tt.want {
			t.Errorf("PalmMM %v: NotPalmSized = %v, want %v", tt.palmMM, got, tt.want)
		}
	}
}

// TestWorkspaceHoldsTheBuffers: a Gate in memory of WorkspaceSize keeps
// its copies of frames there, judges as one on the heap does, and leaves
// the memory all zero when CheckAt returns.
func TestWorkspaceHoldsTheBuffers(t *testing.T) {
	lit, unlit := palm(640, 400, 260, 300, 170, 30, 1), palm(640, 400, 260, 300, 40, 8, 2)
	mem, err := unix.Mmap(-1, 0, WorkspaceSize(image.Pt(1280, 800)), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	g := NewGateIn(mem)
	defer g.Close()
	heap := NewGate()
	defer heap.Close()
	if n := g.space.Fallbacks(); n != 0 {
		t.Fatalf("%d buffers outside the workspace", n)
	}
	for i := range 3 { // the second and third frames are judged for motion too
		want, got := heap.CheckAt(lit, unlit, 150), g.CheckAt(lit, unlit, 150)
		if got != want || !got.OK {
			t.Fatalf("frame %d in the workspace: %+v\non the heap: %+v (want OK)", i, got, want)
		}
		for j, v := range mem {
			if v != 0 {
				t.Fatalf("workspace byte %d of %d is %d after CheckAt, want every byte zero", j, len(mem), v)
			}
		}
	}
	m := g.ds.Do(lit)
	small, _ := m.DataPtrUint8()
	defer g.ds.Clear()
	for _, b := range [][]byte{small, g.resp, unsafe.Slice((*byte)(unsafe.Pointer(&g.dist[0])), 4*len(g.dist))} {
		if !g.space.Contains(unsafe.Pointer(&b[0]), len(b)) {
			t.Error("a buffer is not in the workspace")
		}
	}
}

// TestMeasureIsThePixelByPixelCount: measure takes the classes' counts and
// sums of the segmented image from its histogram (counted in four parts)
// and walks the pixels for the palm class only; its scores must be exactly
// those of the plain count over every pixel (classesByPixel, the gate's
// loop until 2026-12-06), on images of every size, with and without an
// unlit frame.
func TestMeasureIsThePixelByPixelCount(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for k := range 300 {
		cols, rows := 1+r.IntN(40), 1+r.IntN(30)
		if k%10 == 0 {
			cols, rows = 320, 200
		}
		seg, lit := make([]uint8, cols*rows), make([]uint8, cols*rows)
		// A bright disc on noise, some of it saturated.
		cx, cy, rad := r.Float64()*float64(cols), r.Float64()*float64(rows), 1+r.Float64()*float64(max(cols, rows))/2
		for i := range seg {
			x, y := float64(i%cols), float64(i/cols)
			seg[i], lit[i] = uint8(r.IntN(30)), uint8(20+r.IntN(30))
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) < rad*rad {
				seg[i], lit[i] = uint8(100+r.IntN(140)), uint8(140+r.IntN(116))
			}
			if r.IntN(20) == 0 {
				seg[i], lit[i] = uint8(r.IntN(256)), uint8(r.IntN(256))
			}
		}
		hasUnlit := k%2 == 0
		var hist [256]int
		for _, v := range seg {
			hist[v]++
		}
		if got := histogram(seg); got != hist {
			t.Fatalf("%dx%d: the histogram differs from a count one by one", cols, rows)
		}
		want, wantCentre, wantOK := classesByPixel(seg, lit, cols, uint8(otsu(&hist, len(seg))), hasUnlit)
		g := &Gate{small: image.Pt(cols, rows), dist: make([]int32, cols*rows), segPix: seg, smallPix: lit}
		s, centre, ok := g.measure(1280, 150, hasUnlit)
		got := Scores{Brightness: s.Brightness, Contrast: s.Contrast, Saturation: s.Saturation, Glare: s.Glare, Area: s.Area}
		if got != want || centre != wantCentre || ok != wantOK {
			t.Fatalf("%dx%d (unlit %v): %+v centre %v %v, want %+v centre %v %v", cols, rows, hasUnlit, got, centre, ok, want, wantCentre, wantOK)
		}
	}
}

// classesByPixel is measure's statistics of the palm and background
// classes as the gate counted them until 2026-12-06, pixel by pixel.
func classesByPixel(seg, lit []uint8, cols int, tb uint8, hasUnlit bool) (Scores, point, bool) {
	var nb, nf, sb, sf, lf, lall, sat, satAll, satLED int
	var cx, cy int
	n := len(seg)
	for i, v := range seg {
		x, y := i%cols, i/cols
		l := lit[i]
		lall += int(l)
		if l >= saturated {
			satAll++
		}
		if v <= tb {
			nb++
			sb += int(v)
			continue
		}
		nf++
		sf += int(v)
		lf += int(l)
		if l >= saturated {
			sat++
			if hasUnlit && 2*(int(l)-int(v)) < saturated {
				satLED++
			}
		}
		cx += x
		cy += y
	}
	s := Scores{Glare: -1}
	if nf == 0 || nb == 0 {
		s.Brightness = float64(lall) / float64(n)
		s.Saturation = float64(satAll) / float64(n)
		return s, point{}, false
	}
	s.Brightness = float64(lf) / float64(nf)
	s.Contrast = float64(sf)/float64(nf) - float64(sb)/float64(nb)
	s.Saturation = float64(sat) / float64(nf)
	if hasUnlit {
		s.Glare = float64(satLED) / float64(max(sat, 1))
	}
	s.Area = float64(nf) / float64(n)
	return s, point{float64(cx)/float64(nf) + 0.5, float64(cy)/float64(nf) + 0.5}, true
}
