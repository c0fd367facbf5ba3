package eval

import (
	"math"
	"strings"
	"testing"

	"github.com/palmd/palmd/vision/liveness"
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
