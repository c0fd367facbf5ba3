package stats

import (
	"math"
	"testing"
)

func TestUpper95(t *testing.T) {
	for _, tc := range []struct {
		k, n int
		want float64 // closed forms, Poisson factors and Clopper-Pearson tables
	}{
		{0, 150, 1 - math.Pow(0.05, 1.0/150)}, // 1.98 %: an iBeta-sized species with no error
		{0, 300, 1 - math.Pow(0.05, 1.0/300)},
		{0, 50880, 1 - math.Pow(0.05, 1.0/50880)},
		{1, 300, 0.01573}, // 4.744/300
		{2, 50880, 6.296 / 50880},
		{5, 10, 0.7776}, // the 90 % two-sided interval is 0.2224 .. 0.7776
		{10, 10, 1},
		{0, 0, 1},
	} {
		if got := Upper95(tc.k, tc.n); math.Abs(got-tc.want) > 0.002*tc.want {
			t.Errorf("Upper95(%d, %d) = %.6g, want %.6g", tc.k, tc.n, got, tc.want)
		}
	}
}
