//go:build race

package firmware

// raceEnabled: the race detector slows the statistical tests and the golden
// screens (work on one goroutine) past their worth; they run in the pass
// without it.
const raceEnabled = true
