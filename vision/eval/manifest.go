package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/palmd/palmd/vision/synth"

	"github.com/palmd/palmd/vision/liveness"
)

// ErrManifest reports a manifest that does not follow the format in the
// package documentation.
var ErrManifest = errors.New("eval: bad manifest")

// Manifest limits: far above any real set, low enough that a hostile file
// cannot make the parser hold much memory.
const (
	maxManifest = 16 << 20 // bytes
	maxFrames   = 1024     // frames per capture
	maxField    = 256      // bytes per name
)

// Entry is one capture of an external set: a name, whose palm (or whose
// palm the attack copies), the ground truth, and its frames in capture
// order, lit and unlit alternating and starting with a lit frame. Frame
// names are slash-separated paths relative to the set's directory.
type Entry struct {
	Capture  string
	Identity string
	Label    synth.Presentation
	Frames   []string
}

// Pairs is the number of strobed pairs in e.
func (e Entry) Pairs() int { return len(e.Frames) / 2 }

var manifestHeader = []string{"capture", "identity", "label", "frames"}

// ParseManifest reads a CSV manifest (see the package documentation).
func ParseManifest(r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(io.LimitReader(r, maxManifest+1))
	cr.FieldsPerRecord = len(manifestHeader)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrManifest, err)
	}
	for i, h := range manifestHeader {
		if strings.TrimSpace(head[i]) != h {
			return nil, fmt.Errorf("%w: header column %d is %q, want %q", ErrManifest, i+1, head[i], h)
		}
	}
	var entries []Entry
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrManifest, err)
		}
		line, _ := cr.FieldPos(0)
		e, err := parseEntry(rec)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrManifest, line, err)
		}
		if seen[e.Capture] {
			return nil, fmt.Errorf("%w: line %d: capture %q listed twice", ErrManifest, line, e.Capture)
		}
		seen[e.Capture] = true
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: no captures", ErrManifest)
	}
	return entries, nil
}

func parseEntry(rec []string) (Entry, error) {
	e := Entry{Capture: strings.TrimSpace(rec[0]), Identity: strings.TrimSpace(rec[1])}
	for _, f := range []string{e.Capture, e.Identity} {
		if f == "" || len(f) > maxField {
			return Entry{}, fmt.Errorf("capture and identity must be 1 to %d bytes", maxField)
		}
	}
	var err error
	if e.Label, err = synth.ParsePresentation(strings.TrimSpace(rec[2])); err != nil {
		return Entry{}, err
	}
	if n := strings.Count(rec[3], ";") + 1; n > maxFrames {
		return Entry{}, fmt.Errorf("%d frames, more than %d", n, maxFrames)
	}
	for f := range strings.SplitSeq(rec[3], ";") {
		f = strings.TrimSpace(f)
		if len(f) > maxField || !validFrameName(f) {
			return Entry{}, fmt.Errorf("frame name %q is not a relative slash path of at most %d bytes ending in .pgm or .png", f, maxField)
		}
		e.Frames = append(e.Frames, f)
	}
	if len(e.Frames)%2 != 0 || len(e.Frames) < 2*liveness.BurstPairs {
		return Entry{}, fmt.Errorf("%d frames: want an even number, at least %d lit/unlit pairs (a liveness burst)",
			len(e.Frames), liveness.BurstPairs)
	}
	return e, nil
}

// validFrameName accepts local slash paths to .pgm or .png files: no
// absolute paths, no "..", no backslashes.
func validFrameName(f string) bool {
	if f == "" || strings.ContainsAny(f, "\\\x00") || path.IsAbs(f) || path.Clean(f) != f || f == ".." || strings.HasPrefix(f, "../") {
		return false
	}
	ext := strings.ToLower(path.Ext(f))
	return ext == ".pgm" || ext == ".png"
}
