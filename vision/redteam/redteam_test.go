package redteam

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"strings"
	"testing"

	"github.com/palmd/palmd/vision/eval"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/synth"
)

func TestDescribe(t *testing.T) {
	s := Set{Identities: 2, Captures: 2}
	if s.Len() != 2*2*10 {
		t.Fatalf("Len = %d, want 40", s.Len())
	}
	seen := map[synth.Presentation]int{}
	hardSeen := 0
	names := map[string]bool{}
	for i := range s.Len() {
		label, cond, name, _, _ := s.Describe(i)
		if names[name] {
			t.Errorf("capture %d repeats name %s", i, name)
		}
		names[name] = true
		if cond == synth.Good {
			seen[label]++
		} else if cond.BonaFide() && label == synth.Genuine {
			hardSeen++
		} else {
			t.Errorf("capture %d: %s in %s", i, label, cond)
		}
	}
	for _, p := range synth.Presentations() {
		if seen[p] != 4 {
			t.Errorf("%s: %d captures, want 4", p, seen[p])
		}
	}
	if hardSeen != 4 {
		t.Errorf("%d hard genuine captures, want 4", hardSeen)
	}
}

func TestFrames(t *testing.T) {
	s := Set{Identities: 1, Captures: 1}
	f := &eval.Frames{}
	c := s.Capture(0, f) // genuine, good
	lit, err := c.Frame(0, true)
	if err != nil {
		t.Fatal(err)
	}
	litMean := mean(lit)
	unlit, _ := c.Frame(0, false)
	if u := mean(unlit); litMean < u+20 {
		t.Errorf("genuine: lit mean %.1f, unlit %.1f: the LEDs should light the hand", litMean, u)
	}
	// Deterministic: the same capture renders the same frame.
	again := s.Capture(0, &eval.Frames{})
	b, _ := again.Frame(0, true)
	if !bytes.Equal(lit.Pix, b.Pix) {
		t.Error("two renders of one capture differ")
	}
	if c.Black < 10 || c.Black > 22 || c.DistanceMM < 60 || c.DistanceMM > 260 {
		t.Errorf("black %.1f, distance %d mm out of the documented ranges", c.Black, c.DistanceMM)
	}
	if _, err := c.Burst(8, 0, 0); err == nil {
		t.Error("burst frame 8: no error")
	}
}

func mean(g *image.Gray) float64 {
	var s int
	for _, v := range g.Pix {
		s += int(v)
	}
	return float64(s) / float64(len(g.Pix))
}

// HeldOut is the red-team set TestRedTeamFigures scores: 150 captures of
// every attack species and 300 bona fide (150 good, 150 hard), like an
// iBeta level-2 test.
var HeldOut = Set{Identities: 75, Captures: 2}

// TestRedTeamFigures scores the red-team generator, which the thresholds
// were never tuned on, against the targets: APCER <= 1 % per species,
// BPCER <= 2 %, quality-reject <= 3 %, ROI >= 99 %. Measured today (README
// "Evaluation"): every species 0 %, BPCER 0.67 % (2 of 300: emits_light 2),
// quality-reject 2.67 %, ROI 100.00 %; matcher FNMR 9.33 % (7 of 75,
// probes at their poses; 13.33 % before), FMR 0 of 5,550.
func TestRedTeamFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: renders 1,500 captures")
	}
	if os.Getenv("PALMD_EVAL") == "" {
		t.Skip("the held-out evaluation takes minutes of CPU: make eval runs it (PALMD_EVAL=1)")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector")
	}
	r, err := eval.Evaluate(context.Background(), HeldOut.Len(), HeldOut.Capture)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("red-team set:\n%s", b.String())
	for _, p := range r.Species() {
		if n := r.Kinds[p].N; n < 150 {
			t.Errorf("%s: %d captures, want 150", p, n)
		}
		if v := r.PADAPCER(p); v > 0.01 {
			t.Errorf("%s: APCER(PAD) %.2f%%, want <= 1%%", p, 100*v)
		}
	}
	if v := r.BPCER(); v > 0.02 {
		t.Errorf("BPCER %.2f%%, want <= 2%%", 100*v)
	}
	if v := r.QualityRejectRate(); v > 0.03 {
		t.Errorf("quality-reject %.2f%%, want <= 3%%", 100*v)
	}
	if v := r.ROIRate(); v < 0.99 {
		t.Errorf("ROI found on %.2f%% of gated bona fide captures, want >= 99%%", 100*v)
	}
	// The matcher misses its FNMR target here (measured 9.33 %: faint
	// veins, see vision/match; FMR 0 of 5,550, 1 before the region was
	// placed by the burst's majority): held to regression bounds instead.
	m := r.MatchRates()
	if m.FNMR > 0.15 {
		t.Errorf("matcher FNMR %.2f%% (%d genuine comparisons), want <= 15%% (known shortfall)", 100*m.FNMR, m.Genuine)
	}
	if fm := m.FMR * float64(m.Impostor); fm > 1.5 {
		t.Errorf("matcher: %.0f false matches in %d impostor comparisons, want at most 1 (known shortfall)", fm, m.Impostor)
	}
}

// TestSunOnAMovingHandIsNotGloss: hands in low sun that liveness refused
// as glossy on a range the README never reports (identities 8,000,000 ..
// 8,000,999), where the room's light, measured in the unlit frames,
// leaves the shading of a hand that moved in between in each bank's
// response. Their Shape is still above the Glossy bound; judged where the
// LEDs give at least as much light as the room (Gloss), they are hands.
func TestSunOnAMovingHandIsNotGloss(t *testing.T) {
	p := eval.NewPipeline()
	defer p.Close()
	for _, name := range []string{"rt-8000006-1-genuine-sunlit", "rt-8000122-1-genuine-sunlit", "rt-8000235-0-genuine-sunlit", "rt-8000836-1-genuine-sunlit"} {
		t.Run(name, func(t *testing.T) {
			o := runDev(t, p, name)
			f := o.Live.Features
			if f.Shape <= 6 || !o.Live.Live {
				t.Errorf("Shape %.2f, Gloss %.2f, Emission %.2f: live %v (failed %v), want Shape above 6 and live", f.Shape, f.Gloss, f.Emission, o.Live.Live, o.Live.Failed.Reasons())
			}
		})
	}
}

// TestPaintStaysSquareInRoomLight: Square reads the lit frame with the
// room's light in it. These painted casts, moved by hand in a dim room
// (Emission 0.04 to 0.21), fell below Square's bound, and were accepted,
// when it read the lit frame less the nearest unlit one: the hand moves
// between the two frames and the unlit frame adds its noise, and both
// round the paint's flat bottom (see vision/liveness's doc).
func TestPaintStaysSquareInRoomLight(t *testing.T) {
	p := eval.NewPipeline()
	defer p.Close()
	for _, name := range []string{"rt-8000205-0-vein_replica-good", "rt-8000500-1-vein_replica-good", "rt-8000568-1-vein_replica-good", "rt-8000683-1-vein_replica-good"} {
		t.Run(name, func(t *testing.T) {
			o := runDev(t, p, name)
			if f := o.Live.Features; !o.Live.Failed.Has(liveness.PaintedVeins) {
				t.Errorf("Square %.2f, Emission %.2f: failed %v, want %s among them", f.Square, f.Emission, o.Live.Failed.Reasons(), liveness.PaintedVeins)
			}
		})
	}
}

// runDev runs p on the capture named name from the red team's ranges
// that the README never reports (sets starting at identities 8,000,000
// and 8,000,060: the condition of a take depends on where its set starts).
func runDev(t *testing.T, p *eval.Pipeline, name string) eval.Outcome {
	t.Helper()
	var n, take int
	if _, err := fmt.Sscanf(name, "rt-%d-%d-", &n, &take); err != nil {
		t.Fatal(err)
	}
	base := 8_000_000
	if n >= 8_000_060 {
		base = 8_000_060
	}
	s := Set{Identities: n - base + 1, Captures: 2, SeedBase: uint64(base)}
	first := ((n-base)*s.Captures + take) * perTake
	for i := first; i < first+perTake; i++ {
		if _, _, got, _, _ := s.Describe(i); got == name {
			o, err := p.Run(s.Capture(i, &eval.Frames{}))
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
	}
	t.Fatalf("no capture %s in the set starting at %d", name, base)
	return eval.Outcome{}
}
