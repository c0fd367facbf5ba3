package index

import (
	"fmt"
	"os"
	"testing"

	"github.com/palmd/palmd/vision/eval"
	"github.com/palmd/palmd/vision/synth"
)

// TestStrangersAtTheirPoses: the cloud searches again, at its other
// poses (match.Poses), for a probe that matches nobody, so a stranger has
// 35 chances at a false identification where TestUnknownNotIdentified
// gives one. 300 synthetic palms never enrolled (vision/synth, rendered
// through vision/eval's pipeline as the kiosk cuts them) are each
// searched at every pose among 100,000 fillers: none may be identified.
// make eval runs it (PALMD_EVAL=1): rendering takes about a minute.
func TestStrangersAtTheirPoses(t *testing.T) {
	if os.Getenv("PALMD_EVAL") == "" || small() {
		t.Skip("renders 300 captures and builds a 100,000 index: make eval runs it (PALMD_EVAL=1)")
	}
	const n = 100_000
	set := eval.SynthSet{Identities: 300, Captures: 1, SeedBase: 5_000_000, Width: 640, Kinds: []synth.Presentation{synth.Genuine}}
	r, err := eval.Evaluate(t.Context(), set.Len(), set.Capture)
	if err != nil {
		t.Fatal(err)
	}
	x := New()
	for i, f := range fillers(t, n, n+99) {
		x.Add(fmt.Sprint("filler-", i), f)
	}
	strangers, searches := 0, 0
	for _, o := range r.Outcomes {
		if len(o.Poses) == 0 {
			continue
		}
		strangers++
		for k, p := range o.Poses {
			searches++
			if id, s, ok := x.Search(p); ok {
				t.Errorf("stranger %s identified at pose %d as %s (score %.3f)", o.Capture, k, id, s)
			}
		}
	}
	if strangers < 290 {
		t.Errorf("only %d of 300 strangers gave a palm region", strangers)
	}
	t.Logf("%d strangers among %d enrolled, %d searches: none identified", strangers, n, searches)
}
