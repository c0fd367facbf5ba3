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
// condition Good; the first Conditions identities also have one genuine
// capture in every other condition.
type SynthSet struct {
	Identities int
	Captures   int
	Conditions int
	SeedBase   uint64
	// Width is the frame width: synth.Width, or a divisor of it to box-
	// downscale the rendered frames (for small example sets).
	Width int
	// Pairs is the number of pairs per capture, from BurstPairs+1 (one gate
	// attempt before the burst) to SynthPairs; 0 means SynthPairs.
	Pairs int
}

func (s SynthSet) pairs() int {
	if s.Pairs <= 0 {
		return SynthPairs
	}
	return min(max(s.Pairs, liveness.BurstPairs+1), SynthPairs)
}

var presentations = [...]synth.Presentation{synth.Genuine, synth.PrintedPhoto, synth.ScreenReplay, synth.RigidReplica}

var badConditions = [...]synth.Condition{synth.TooFar, synth.TooClose, synth.OffCentre, synth.Moving, synth.PartlyOut, synth.Blurred, synth.Dark, synth.Bright}

// Len is the number of captures in s.
func (s SynthSet) Len() int {
	return s.Identities*s.Captures*len(presentations) + min(s.Conditions, s.Identities)*len(badConditions)
}

// Describe returns capture i's synth parameters, its name and its
// identity's name. Identity names are "id-N" with N = SeedBase + the
// identity's index; Seed packs N, the take and the presentation or
// condition so that every capture differs.
func (s SynthSet) Describe(i int) (c synth.Capture, name, identity string) {
	good := s.Identities * s.Captures * len(presentations)
	var id, take int
	if i < good {
		id = i / (s.Captures * len(presentations))
		take = i / len(presentations) % s.Captures
		c.Presentation = presentations[i%len(presentations)]
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
func (s SynthSet) Capture(i int, frames *Frames) Capture {
	c, name, identity := s.Describe(i)
	scene := synth.NewScene(c)
	width := s.Width
	if width <= 0 {
		width = synth.Width
	}
	f := synth.Width / width
	size := image.Pt(synth.Width/f, synth.Height/f)
	pairs := s.pairs()
	var done [2 * SynthPairs]bool
	return Capture{
		Name: name, Identity: identity, Label: c.Presentation, Condition: c.Condition, Pairs: pairs,
		Frame: func(k int, lit bool) (*image.Gray, error) {
			if k < 0 || k >= pairs {
				return nil, fmt.Errorf("eval: capture %q has no pair %d", name, k)
			}
			j := 2 * k
			if !lit {
				j++
			}
			dst := frames.get(j, size)
			if !done[j] {
				// Pair k is frame k at 30 fps; its lit and unlit frames show
				// the same instant, as in the simulated camera.
				if f == 1 {
					scene.Render(dst, k, lit)
				} else {
					full := frames.scratchBuf(image.Pt(synth.Width, synth.Height))
					scene.Render(full, k, lit)
					boxDown(dst, full, f)
					clear(full.Pix)
				}
				done[j] = true
			}
			return dst, nil
		},
	}
}

// boxDown writes to dst the f x f box average of src.
func boxDown(dst, src *image.Gray, f int) {
	for y := range dst.Rect.Dy() {
		for x := range dst.Rect.Dx() {
			sum := 0
			for yy := range f {
				row := src.Pix[(y*f+yy)*src.Stride+x*f:]
				for xx := range f {
					sum += int(row[xx])
				}
			}
			dst.Pix[y*dst.Stride+x] = uint8((sum + f*f/2) / (f * f))
		}
	}
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

// Capture returns capture i; its frames are decoded on demand.
func (s *ExternalSet) Capture(i int, _ *Frames) Capture {
	e := s.Entries[i]
	return Capture{
		Name: e.Capture, Identity: e.Identity, Label: e.Label, Condition: synth.Good, Pairs: e.Pairs(),
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
}
