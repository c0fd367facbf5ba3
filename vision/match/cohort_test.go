package match

import (
	"math/rand/v2"
	"testing"
)

func TestCohortMatches(t *testing.T) {
	// A cohort like a probe's impostors: mean 0.09, standard deviation
	// about 0.03.
	scores := func(n int) []float64 {
		r := rand.New(rand.NewPCG(1, 2))
		out := make([]float64, n)
		for i := range out {
			out[i] = 0.09 + 0.03*r.NormFloat64()
		}
		return out
	}
	flat := make([]float64, 200) // a region of noise: every score alike
	for i := range flat {
		flat[i] = 0.01
	}
	tests := []struct {
		name   string
		cohort []float64
		s      float64
		want   bool
	}{
		{"at Threshold, no cohort", nil, Threshold, true},
		{"below Threshold, no cohort", nil, 0.29, false},
		{"below Threshold, cohort too small", scores(CohortMin - 1), 0.29, false},
		{"far above a full cohort", scores(300), 0.29, true},
		{"a few deviations above", scores(300), 0.18, false},
		{"far above, but below ZFloor", scores(300), ZFloor - 0.01, false},
		{"above a cohort of identical scores", flat, 0.25, false},
		{"above Threshold, whatever the cohort", scores(300), 0.31, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCohort(tt.cohort)
			if got := c.Matches(tt.s); got != tt.want {
				t.Errorf("Matches(%.2f) = %v, want %v (z %.2f)", tt.s, got, tt.want, c.Z(tt.s))
			}
		})
	}
}
