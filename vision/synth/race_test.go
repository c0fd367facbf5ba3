//go:build race

package synth

import "testing"

// skipUnderRace skips a statistical rendering test under the race
// detector: it renders many scenes, which takes far too long there, and
// runs no goroutines.
func skipUnderRace(t *testing.T) {
	t.Helper()
	t.Skip("statistical rendering test: too slow under the race detector")
}
