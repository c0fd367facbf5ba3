package eval

import (
	"image"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/match"
	"github.com/palmd/palmd/vision/synth"
)

func TestBPCERAt(t *testing.T) {
	r := &Report{}
	add := func(p synth.Presentation, scores ...float64) {
		for _, s := range scores {
			r.Add(Outcome{Label: p, Live: liveness.Result{Score: s, Live: s >= 0.5}})
		}
	}
	// Ten bona fide scores 0.1 .. 1.0; attacks of two species.
	add(synth.Genuine, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
	add(synth.PrintedPhoto, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.55)
	add(synth.ScreenReplay, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01)
	tests := []struct {
		apcer, bpcer float64
	}{
		// APCER <= 10 %: the print at 0.55 may stay; threshold just above
		// 0.05 rejects no bona fide capture.
		{0.10, 0},
		// APCER <= 1 %: the threshold must pass 0.55, rejecting 0.1 .. 0.5.
		{0.01, 0.5},
	}
	for _, tt := range tests {
		if got, th := r.BPCERAt(tt.apcer); math.Abs(got-tt.bpcer) > 1e-9 {
			t.Errorf("BPCERAt(%v) = %v (threshold %v), want %v", tt.apcer, got, th, tt.bpcer)
		}
	}
	if w, v := r.WorstSpecies(); w != synth.PrintedPhoto || v != 0 {
		// Nothing passed the gate (Passed false), so APCER(system) is 0.
		t.Errorf("WorstSpecies = %s %v, want printed_photo 0", w, v)
	}
	var b strings.Builder
	if err := r.WritePlot(&b, "t"); err != nil || !strings.Contains(b.String(), "printed_photo") || !strings.HasSuffix(b.String(), "</svg>\n") {
		t.Errorf("WritePlot: %v\n%s", err, b.String())
	}
}

func TestMatchRatesNeedsTwoCaptures(t *testing.T) {
	r := &Report{}
	r.Add(Outcome{Label: synth.Genuine, Identity: "a"})
	if m := r.MatchRates(); m.Identities != 0 || m.Genuine != 0 || m.FNMR != 0 {
		t.Errorf("MatchRates with no templates = %+v", m)
	}
}

// TestMatchRatesByCondition checks that misses are counted against the
// probe's condition, and that the summary prints them.
func TestMatchRatesByCondition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func() *match.Template {
		roi := image.NewGray(image.Rect(0, 0, match.Size, match.Size))
		for i := range roi.Pix {
			roi.Pix[i] = uint8(rng.IntN(256))
		}
		tm, err := match.NewTemplate(roi)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	a, b := noise(), noise()
	r := &Report{}
	add := func(id string, c synth.Condition, tm *match.Template) {
		r.Add(Outcome{Label: synth.Genuine, Identity: id, Condition: c, Poses: []match.Template{*tm}})
	}
	for range match.EnrolCaptures {
		add("a", synth.Good, a)
		add("b", synth.Good, b)
	}
	add("a", synth.Sunlit, a)           // the same code: recognised
	add("a", synth.ChildClose, noise()) // another code: missed
	add("b", synth.ChildClose, b)       // recognised
	add("b", synth.TooFar, noise())     // not bona fide: no probe
	m := r.MatchRates()
	want := map[string]ConditionFNMR{
		"sunlit":      {Genuine: 1, Misses: 0, FNMR: 0},
		"child_close": {Genuine: 2, Misses: 1, FNMR: 0.5},
	}
	if !maps.Equal(m.ByCondition, want) {
		t.Errorf("ByCondition = %v, want %v", m.ByCondition, want)
	}
	if m.Genuine != 3 || math.Abs(m.FNMR-1.0/3) > 1e-9 || m.Impostor != 3 || m.FMR != 0 {
		t.Errorf("MatchRates = %+v, want 3 genuine comparisons (1 missed) and 3 impostor (none matched)", m)
	}
	var s strings.Builder
	if err := r.WriteSummary(&s); err != nil {
		t.Fatal(err)
	}
	if line := "FNMR by the probe's condition: child_close 50.00% (1 of 2) sunlit 0.00% (0 of 1)"; !strings.Contains(s.String(), line) {
		t.Errorf("summary lacks %q:\n%s", line, s.String())
	}
}

// TestSoleCheck checks the count of attacks two or more liveness checks
// refused and APCER(PAD) without the check that alone refuses most.
func TestSoleCheck(t *testing.T) {
	one, other, both := liveness.Checks(1<<4), liveness.Checks(1<<3), liveness.Checks(1<<3|1<<6)
	r := &Report{}
	for _, failed := range []liveness.Checks{0, one, one, other, both} {
		res := liveness.Result{Live: failed == 0, Score: 0.9, Failed: failed}
		if failed != 0 {
			res.Reason, res.Score = failed.Reasons()[0], 0.1
		}
		r.Add(Outcome{Label: synth.PrintedPhoto, Live: res})
	}
	sole, without := r.SoleCheck(synth.PrintedPhoto)
	if want := one.Reasons()[0]; sole != want || math.Abs(without-0.6) > 1e-9 {
		t.Errorf("SoleCheck = %q %v, want %q 0.6 (one live and two refused by it alone, of five)", sole, without, want)
	}
	j := r.JSON("t").Species["printed_photo"]
	if math.Abs(j.RefusedByTwo-0.2) > 1e-9 || j.SoleCheck != sole || j.APCERPADWithoutSole != without {
		t.Errorf("JSON species = %+v", j)
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "20.00%") || !strings.Contains(b.String(), sole+" 2") || !strings.Contains(b.String(), "60.00%") {
		t.Errorf("table lacks the independent checks:\n%s", b.String())
	}
}

// TestBPCERByCondition checks that bona fide refusals are counted against
// the capture's condition, in the table and in JSON, and that captures in
// a condition that is not bona fide or of an attack are not.
func TestBPCERByCondition(t *testing.T) {
	r := &Report{}
	add := func(c synth.Condition, passed, live bool) {
		res := liveness.Result{Live: live, Score: 0.9}
		if !live {
			res.Reason, res.Score = liveness.Glossy, 0.3
		}
		r.Add(Outcome{Label: synth.Genuine, Condition: c, Passed: passed, Live: res})
	}
	add(synth.Good, true, true)
	add(synth.Good, true, true)
	add(synth.DarkSkin, true, true)
	add(synth.DarkSkin, true, false)
	add(synth.DarkSkin, true, true)
	add(synth.DarkSkin, false, true)
	add(synth.TooFar, false, false) // not bona fide
	r.Add(Outcome{Label: synth.PrintedPhoto, Condition: synth.Good, Live: liveness.Result{Reason: liveness.Flat}})
	want := map[string]ConditionJSON{
		"good":      {Captures: 2},
		"dark_skin": {Captures: 4, BPCER: 0.25, QualityReject: 0.25},
	}
	if got := r.JSON("t").BonaFide.ByCondition; !maps.Equal(got, want) {
		t.Errorf("ByCondition = %v, want %v", got, want)
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	table := b.String()[strings.Index(b.String(), "Bona fide by condition"):]
	table = table[:strings.Index(table, "\n\n")]
	var rows []string
	for _, line := range strings.Split(table, "\n")[2:] {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	if want := []string{"good 2 0.00% 0.00% -", "dark_skin 4 25.00% 25.00% glossy 1"}; !slices.Equal(rows, want) {
		t.Errorf("table rows = %q, want %q:\n%s", rows, want, table)
	}
}

// TestUpperBounds: the report says how far its rates are shown, in the
// JSON and the summary: 0 of 150 accepted attacks bound APCER(system)
// below 1.98 %, not below 1 %.
func TestUpperBounds(t *testing.T) {
	r := &Report{}
	accept := func(p synth.Presentation, n, accepted int) {
		for i := range n {
			live := i < accepted
			r.Add(Outcome{Label: p, Passed: true, Live: liveness.Result{Live: live, Score: map[bool]float64{true: 0.6, false: 0.2}[live]}})
		}
	}
	accept(synth.PrintedPhoto, 150, 0)
	accept(synth.VeinReplica, 150, 3)
	accept(synth.Genuine, 300, 297) // 3 refused
	j := r.JSON("test")
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"printed_photo", j.Species["printed_photo"].APCERSystemUpper95, 1 - math.Pow(0.05, 1.0/150)},
		// Exact binomial tails, computed apart: Poisson's 7.754/n is a
		// little above them.
		{"vein_replica", j.Species["vein_replica"].APCERSystemUpper95, 0.050877},
		{"bpcer", j.BonaFide.BPCERUpper95, 0.025641},
		{"quality-reject", j.BonaFide.QualityRejectUpper95, 1 - math.Pow(0.05, 1.0/300)},
	} {
		if math.Abs(tt.got-tt.want) > 0.002*tt.want {
			t.Errorf("%s: upper bound %.5f, want %.5f", tt.name, tt.got, tt.want)
		}
	}
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	if want := "worst species APCER(system) 5.09% (3 of 150), BPCER 2.56% (3 of 300), quality-reject 0.99% (0 of 300)"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
}
