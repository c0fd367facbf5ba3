//go:build race

package synth

import "testing"

// skipUnderRace skips, under the race detector, a test that builds or
// renders many scenes on one goroutine: there it takes far too long (most
// of a minute a run on a loaded 2-core machine, so go test -race -count=20
// ran past the default timeout) and has nothing to race.
// TestRenderConcurrent is the test the detector is for.
func skipUnderRace(t *testing.T) {
	t.Helper()
	t.Skip("renders many scenes on one goroutine: too slow under the race detector")
}
