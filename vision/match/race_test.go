//go:build race

package match

// raceEnabled reports a build with the race detector, under which the
// rendering-heavy tests would take far too long.
const raceEnabled = true
