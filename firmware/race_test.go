//go:build race

package firmware

// raceEnabled: the race detector slows the statistical tests past their
// worth; they run in the pass without it.
const raceEnabled = true
