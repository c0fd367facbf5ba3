package eval

import (
	"fmt"
	"image"
	"os"
	"path"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/synth"
)

// Seed ranges. Tuning (cmd/palmeval's default) uses identities from
// TuningSeedBase; TestHeldOutFigures uses identities from HeldOutSeedBase,
// which the thresholds were never looked at on. The ranges cannot overlap
// below a million identities.
const (
	TuningSeedBase  = 1
	HeldOutSeedBase = 1_000_000
)

// SynthPairs is how many pairs a synthetic capture has: enough for every
// gate attempt to be followed by a full burst.
const SynthPairs = GateAttempts - 1 + liveness.BurstPairs

// SynthSet is a labelled synthetic set. For each of Identities identities
// and each of Captures takes it has one capture of every presentation in
// condition Good and one genuine capture in a hard condition (Sunlit ..
// Sleeve, in turn); the first Conditions identities also have one genuine
// capture in every bad condition.
type SynthSet struct {
	Identities int
	Captures   int
	Conditions int
	SeedBase   uint64
	// Width is the frame width: one of Widths (0: synth.Width). Below the
	// sensor's width frames are rendered binned, which is faster and
	// measures the same after the gate's and liveness's 320-pixel copies;
	// liveness's Square, read on a 200-pixel copy of the palm, moved by at
	// most 0.04 between 640 and 1280 px on tuning identities 1..6.
	Width int
	// Pairs is the number of pairs per capture, from BurstPairs+1 (one gate
	// attempt before the burst) to SynthPairs; 0 means SynthPairs.
	Pairs int
	// Kinds, when not empty, limits the set to these presentations in
	// condition Good (and the bad conditions), without the hard genuine
	// conditions.
	Kinds []synth.Presentation
}

// kinds returns the presentations per take and whether a hard genuine
// capture follows them.
func (s SynthSet) kinds() ([]synth.Presentation, bool) {
	if len(s.Kinds) > 0 {
		return s.Kinds, false
	}
	return presentations[:], true
}

// perTake is the number of captures per identity and take.
func (s SynthSet) perTake() int {
	k, hard := s.kinds()
	if hard {
		return len(k) + 1
	}
	return len(k)
}

func (s SynthSet) pairs() int {
	if s.Pairs <= 0 {
		return SynthPairs
	}
	return min(max(s.Pairs, liveness.BurstPairs+1), SynthPairs)
}

var presentations = [...]synth.Presentation{synth.Genuine, synth.PrintedPhoto, synth.ScreenReplay, synth.RigidReplica,
	synth.VeinPrint, synth.VeinPrintMounted, synth.GlossyPhoto, synth.NIRProjector, synth.VeinReplica}

// ExampleKinds are the presentations of testdata/example: the four the
// external-set format had first. A recorded set has a fixed lit/unlit
// pattern with both banks, so it cannot show the challenge-response and
// bank cues the newer attacks need (see vision/liveness).
var ExampleKinds = []synth.Presentation{synth.Genuine, synth.PrintedPhoto, synth.ScreenReplay, synth.RigidReplica}

var badConditions = [...]synth.Condition{synth.TooFar, synth.TooClose, synth.OffCentre, synth.Moving, synth.PartlyOut, synth.Blurred, synth.Dark, synth.Bright}

// hardConditions are the bona fide conditions beside Good; take t of
// identity n gets hardConditions[(n+t) % 7] as its extra genuine capture.
var hardConditions = [...]synth.Condition{synth.Sunlit, synth.DarkSkin, synth.FairSkin, synth.DrySkin, synth.ChildClose, synth.Tilted, synth.Sleeve}

// Len is the number of captures in s.
func (s SynthSet) Len() int {
	return s.Identities*s.Captures*s.perTake() + min(s.Conditions, s.Identities)*len(badConditions)
}

// Describe returns capture i's synth parameters, its name and its
// identity's name. Identity names are "id-N" with N = SeedBase + the
// identity's index; Seed packs N, the take and the presentation or
// condition so that every capture differs.
func (s SynthSet) Describe(i int) (c synth.Capture, name, identity string) {
	per := s.perTake()
	kinds, _ := s.kinds()
	good := s.Identities * s.Captures * per
	var id, take int
	if i < good {
		id = i / (s.Captures * per)
		take = i / per % s.Captures
		if k := i % per; k < len(kinds) {
			c.Presentation = kinds[k]
		} else {
			c.Condition = hardConditions[(id+int(s.SeedBase)+take)%len(hardConditions)]
		}
	} else {
		j := i - good
		id = j / len(badConditions)
		take = s.Captures
		c.Condition = badConditions[j%len(badConditions)]
	}
	n := s.SeedBase + uint64(id)
	identity = fmt.Sprintf("id-%d", n)
	c.Identity = synth.IdentityOf(identity)
	c.Seed = n<<20 | uint64(take)<<8 | uint64(c.Presentation)<<4 | uint64(c.Condition)
	name = fmt.Sprintf("%s-%d-%s-%s", identity, take, c.Presentation, c.Condition)
	return c, name, identity
}

// Capture returns capture i, rendering its frames into frames on demand.
// Frames are rendered binned when Width is below synth.Width
// (synth.Scene.RenderBinned). Pair k is sensor frames 2k (lit, both banks)
// and 2k+1 (unlit); the challenge-response burst follows on later frames.
func (s SynthSet) Capture(i int, frames *Frames) Capture {
	c, name, identity := s.Describe(i)
	scene := synth.NewScene(c)
	bin := s.bin()
	size := image.Pt(synth.Width/bin, synth.Height/bin)
	pairs := s.pairs()
	var done [2 * SynthPairs]bool
	_, _, black := scene.Exposure()
	return Capture{
		Name: name, Identity: identity, Label: c.Presentation, Condition: c.Condition, Pairs: pairs,
		DistanceMM: scene.DistanceMM(), Black: black, Seed: c.Seed ^ c.Identity,
		Burst: func(i, frame int, banks uint8) (*image.Gray, error) {
			if i < 0 || i >= liveness.BurstFrames {
				return nil, fmt.Errorf("eval: capture %q has no burst frame %d", name, i)
			}
			dst := frames.Get(2*SynthPairs+i, size)
			scene.RenderBinned(dst, frame, synth.Banks(banks), bin)
			return dst, nil
		},
		Frame: func(k int, lit bool) (*image.Gray, error) {
			if k < 0 || k >= pairs {
				return nil, fmt.Errorf("eval: capture %q has no pair %d", name, k)
			}
			j := 2 * k
			banks := synth.AllBanks
			if !lit {
				j++
				banks = synth.NoBanks
			}
			dst := frames.Get(j, size)
			if !done[j] {
				scene.RenderBinned(dst, j, banks, bin)
				done[j] = true
			}
			return dst, nil
		},
	}
}

// Widths are the frame widths a synthetic set can be rendered at: the
// sensor's, and binned 2 x 2 or 4 x 4.
var Widths = []int{synth.Width, synth.Width / 2, synth.Width / 4}

func (s SynthSet) bin() int {
	if s.Width <= 0 {
		return 1
	}
	return max(1, min(4, synth.Width/s.Width))
}

// ExternalSet is a labelled set on disk: a manifest and its frames.
type ExternalSet struct {
	root    *os.Root
	Entries []Entry
}

// ManifestName is the manifest's file name inside an external set.
const ManifestName = "manifest.csv"

// OpenExternalSet opens the set in dir and parses its manifest. Frames are
// read on demand, only from inside dir.
func OpenExternalSet(dir string) (*ExternalSet, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("eval: open set: %w", err)
	}
	f, err := root.Open(ManifestName)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("eval: open set: %w", err)
	}
	defer f.Close()
	entries, err := ParseManifest(f)
	if err != nil {
		root.Close()
		return nil, err
	}
	return &ExternalSet{root: root, Entries: entries}, nil
}

// Close closes the set's directory.
func (s *ExternalSet) Close() error { return s.root.Close() }

// Capture returns capture i; its frames are decoded on demand. A capture
// recorded with its burst is judged on it (liveness.CheckBurst), one
// without on its pairs (liveness.Check).
func (s *ExternalSet) Capture(i int, _ *Frames) Capture {
	e := s.Entries[i]
	c := Capture{
		Name: e.Capture, Identity: e.Identity, Label: e.Label, Condition: synth.Good, Pairs: e.Pairs(),
		DistanceMM: e.DistanceMM, Black: e.Black,
		Frame: func(k int, lit bool) (*image.Gray, error) {
			j := 2 * k
			if !lit {
				j++
			}
			if k < 0 || j >= len(e.Frames) {
				return nil, fmt.Errorf("eval: capture %q has no pair %d", e.Capture, k)
			}
			return LoadFrame(s.root, path.Clean(e.Frames[j]))
		},
	}
	if len(e.Burst) == 0 {
		return c
	}
	c.Pattern = make([]uint8, len(e.Burst))
	for i, f := range e.Burst {
		c.Pattern[i] = f.Banks
	}
	c.Burst = func(i, _ int, banks uint8) (*image.Gray, error) {
		if i < 0 || i >= len(e.Burst) || e.Burst[i].Banks != banks {
			return nil, fmt.Errorf("eval: capture %q has no burst frame %d lit %s", e.Capture, i, bankName(banks))
		}
		return LoadFrame(s.root, path.Clean(e.Burst[i].Name))
	}
	return c
}
