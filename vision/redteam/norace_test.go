//go:build !race

package redteam

// raceEnabled reports a build with the race detector, under which the
// held-out evaluation would take far too long.
const raceEnabled = false
