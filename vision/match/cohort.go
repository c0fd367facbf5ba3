package match

import "math"

// Cohort normalisation (T-norm: Auckenthaler, Carey and Lloyd-Thomas,
// "Score normalization for text-independent speaker verification
// systems", Digital Signal Processing 10:42, 2000). A faint probe (a
// child's palm held close, a dark palm far away) scores low against its
// own enrolment and against everyone else's alike; how far its score
// stands above its scores against a population of other palms tells a
// match where the score alone does not. See the package documentation for
// the figures.
const (
	// CohortMin is the fewest templates a cohort is judged on: the
	// standard deviation of 100 scores is known to within about 7 %.
	// A gallery smaller than that decides on Threshold alone.
	CohortMin = 100
	// ZThreshold is how many of the cohort's standard deviations above its
	// mean a score must stand. Chosen from the target, not fitted: a
	// Gaussian's tail beyond 5 standard deviations holds 3 in 10 million,
	// so the three templates of an enrolment and a tail several times
	// heavier still keep the false match rate under 1 in 10,000.
	ZThreshold = 5.0
	// ZFloor is the lowest Similarity the cohort can accept: twice the
	// median impostor score (0.087 on the tuning set), so a cohort whose
	// scores all sit near zero (a region of noise) accepts nothing by
	// chance.
	ZFloor = 0.20
)

// Cohort is what one probe scores against a cohort: the templates of a
// population of palms, as a sample of the gallery it is searched in.
// Whether the probe's own enrolment is among them does not matter much: it
// is a few templates among at least CohortMin, and it can only lower z.
// The zero Cohort decides on Threshold alone.
type Cohort struct {
	n        int
	mean, sd float64
}

// NewCohort summarises a probe's Similarity to each template of a cohort.
func NewCohort(scores []float64) Cohort {
	c := Cohort{n: len(scores)}
	if c.n < 2 {
		return Cohort{}
	}
	for _, s := range scores {
		c.mean += s
	}
	c.mean /= float64(c.n)
	for _, s := range scores {
		c.sd += (s - c.mean) * (s - c.mean)
	}
	c.sd = math.Sqrt(c.sd / float64(c.n-1))
	return c
}

// Z is how many of the cohort's standard deviations s stands above its
// mean; 0 when the cohort is too small to say (fewer than CohortMin
// scores) or its scores all alike (a standard deviation under 0.001,
// where a real cohort's is about 0.03).
func (c Cohort) Z(s float64) float64 {
	if c.n < CohortMin || c.sd < 1e-3 {
		return 0
	}
	return (s - c.mean) / c.sd
}

// Matches reports whether s, the probe's Similarity to one enrolment, is a
// match: at or above Threshold, or at least ZFloor and ZThreshold of the
// cohort's standard deviations above its mean.
func (c Cohort) Matches(s float64) bool {
	return s >= Threshold || s >= ZFloor && c.Z(s) >= ZThreshold
}
