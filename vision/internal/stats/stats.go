package stats

import "math"

// Upper95 is the one-sided 95 % upper confidence bound (Clopper-Pearson) on
// an error rate of which k errors were seen in n trials: the rate p at
// which seeing k or fewer errors has probability 0.05. For k = 0 it is
// 1 - 0.05^(1/n), about 3/n (the rule of three). It is 1 when n is 0 or
// every trial erred.
func Upper95(k, n int) float64 {
	if n <= 0 || k >= n {
		return 1
	}
	lo, hi := 0.0, 1.0
	for range 60 { // bisection: the tail falls as p rises
		p := (lo + hi) / 2
		if binomialCDF(k, n, p) > 0.05 {
			lo = p
		} else {
			hi = p
		}
	}
	return hi
}

// binomialCDF is P(X <= k) for X ~ Binomial(n, p), 0 < p < 1, summed in
// logarithms so that large n does not underflow.
func binomialCDF(k, n int, p float64) float64 {
	lgN, _ := math.Lgamma(float64(n + 1))
	var sum float64
	for i := range k + 1 {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgR, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lgN - lgI - lgR + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return sum
}
