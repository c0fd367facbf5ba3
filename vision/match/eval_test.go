package match

import (
	"fmt"
	"image"
	"os"
	"testing"

	"github.com/palmd/palmd/vision/internal/stats"
	"github.com/palmd/palmd/vision/roi"
	"github.com/palmd/palmd/vision/synth"
)

// TestHeldOutErrorRates measures the false non-match rate (FNMR) and the
// false match rate (FMR) at Threshold on held-out synthetic good captures,
// through vision/roi as the kiosk does, with EnrolCaptures captures per
// enrolment and two further captures as probes, each compared at its
// poses as the cloud identifies (BestOfPoses). With
// PALMD_EVAL set it shows the targets rather than meeting them on a lucky
// set: 160 identities give 320 genuine and 50,880 impostor comparisons,
// and the test requires the one-sided 95 % upper confidence bounds
// (stats.Upper95) to be at most FNMR 1 % and FMR 1 in 10,000, which only holds
// with no error at all (one false match in 50,880 bounds the FMR at 0.93
// in 10,000, two at 1.2). Threshold was chosen on other identities and
// seeds (see the package documentation).
func TestHeldOutErrorRates(t *testing.T) {
	if raceEnabled {
		t.Skip("renders hundreds of scenes: too slow under the race detector")
	}
	people, probes := 160, 2
	full := !testing.Short() && os.Getenv("PALMD_EVAL") != ""
	if !full {
		people = 6 // the 160-identity figure: make eval (PALMD_EVAL=1)
	}
	takes := EnrolCaptures + probes
	e := roi.NewExtractor()
	defer e.Close()
	frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	region := image.NewGray(image.Rect(0, 0, Size, Size))
	enrolled := make([][]Template, people)
	// probe holds each probe's poses; fta counts failures to acquire
	// (vision/roi found no palm region).
	probe := make([][][]Template, people)
	fta := 0
	for p := range people {
		for s := range takes {
			c := synth.Capture{Identity: synth.IdentityOf(fmt.Sprint("match-heldout-", p)), Seed: uint64(9000 + s)}
			synth.NewScene(c).Render(frame, 0, true)
			if err := e.Extract(frame, nil, region); err != nil {
				t.Logf("person %d take %d: %v", p, s, err)
				fta++
				continue
			}
			poses, err := Poses(region)
			if err != nil {
				t.Fatal(err)
			}
			if s < EnrolCaptures {
				enrolled[p] = append(enrolled[p], poses[0])
			} else {
				probe[p] = append(probe[p], poses)
			}
		}
	}
	var gen, imp, falseNon, falseMatch int
	minGen, maxImp := 1.0, 0.0
	for p := range people {
		for q := range people {
			for _, b := range probe[q] {
				s := BestOfPoses(enrolled[p], b)
				if p == q {
					gen++
					minGen = min(minGen, s)
					if s < Threshold {
						falseNon++
					}
				} else {
					imp++
					maxImp = max(maxImp, s)
					if s >= Threshold {
						falseMatch++
					}
				}
			}
		}
	}
	fnmr, fmr := stats.Upper95(falseNon, gen), stats.Upper95(falseMatch, imp)
	t.Logf("%d identities, %d-capture enrolments: FNMR %d/%d (lowest genuine %.3f, at most %.2f %% at 95 %% confidence), FMR %d/%d (highest impostor %.3f, at most %.2f in 10,000) at threshold %.2f, %d of %d captures failed to acquire",
		people, EnrolCaptures, falseNon, gen, minGen, 100*fnmr, falseMatch, imp, maxImp, 1e4*fmr, Threshold, fta, people*takes)
	if float64(fta) > 0.02*float64(people*takes) {
		t.Errorf("%d of %d captures without a palm region, above 2 %%", fta, people*takes)
	}
	if !full { // too few comparisons to bound anything: no error allowed
		if falseNon+falseMatch > 0 {
			t.Errorf("%d false non-matches, %d false matches on %d identities", falseNon, falseMatch, people)
		}
		return
	}
	if fnmr > 0.01 {
		t.Errorf("FNMR %d/%d: at most %.2f %% at 95 %% confidence, above 1 %%", falseNon, gen, 100*fnmr)
	}
	if fmr > 1e-4 {
		t.Errorf("FMR %d/%d: at most %.2f in 10,000 at 95 %% confidence, above 1", falseMatch, imp, 1e4*fmr)
	}
}
