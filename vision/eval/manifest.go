package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
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
// names are slash-separated paths relative to the set's directory. A
// capture recorded as the firmware takes it also has its
// challenge-response burst, the presence sensor's distance and the
// sensor's black level (0: unknown).
type Entry struct {
	Capture    string
	Identity   string
	Label      synth.Presentation
	Frames     []string
	Burst      []BurstFrame // empty: judged on the pairs (liveness.Check)
	DistanceMM int
	Black      float64
}

// BurstFrame is one frame of a recorded burst and the LED banks lit while
// it was exposed (liveness.Frame's bits).
type BurstFrame struct {
	Banks uint8
	Name  string
}

// Pairs is the number of strobed pairs in e.
func (e Entry) Pairs() int { return len(e.Frames) / 2 }

// manifestHeader is the four columns every manifest has; burstHeader adds
// the columns of a capture recorded with its challenge-response burst.
var (
	manifestHeader = []string{"capture", "identity", "label", "frames"}
	burstHeader    = append(manifestHeader[:len(manifestHeader):len(manifestHeader)], "burst", "distance_mm", "black_level")
)

// bankStates names Frame.Banks values in a manifest's burst column.
var bankStates = map[string]uint8{"off": liveness.BanksOff, "left": liveness.BankLeft, "right": liveness.BankRight, "both": liveness.BanksBoth}

// bankName is the manifest's name of banks.
func bankName(banks uint8) string {
	for k, v := range bankStates {
		if v == banks {
			return k
		}
	}
	return "unknown"
}

// ParseManifest reads a CSV manifest (see the package documentation).
func ParseManifest(r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(io.LimitReader(r, maxManifest+1))
	cr.ReuseRecord = true // every row as long as the header
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrManifest, err)
	}
	want := manifestHeader
	if len(head) == len(burstHeader) {
		want = burstHeader
	}
	if len(head) != len(want) {
		return nil, fmt.Errorf("%w: header has %d columns, want %q or %q", ErrManifest, len(head),
			strings.Join(manifestHeader, ","), strings.Join(burstHeader, ","))
	}
	for i, h := range want {
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
	if len(rec) == len(burstHeader) {
		if err := parseBurst(&e, rec[4:]); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// parseBurst reads the burst, distance_mm and black_level columns into e.
func parseBurst(e *Entry, rec []string) error {
	if b := strings.TrimSpace(rec[0]); b != "" {
		var count [4]int
		for f := range strings.SplitSeq(b, ";") {
			state, name, _ := strings.Cut(strings.TrimSpace(f), ":")
			banks, ok := bankStates[state]
			if !ok {
				return fmt.Errorf("burst frame %q: want state:path with state off, left, right or both", f)
			}
			if len(name) > maxField || !validFrameName(name) {
				return fmt.Errorf("burst frame name %q is not a relative slash path of at most %d bytes ending in .pgm or .png", name, maxField)
			}
			count[banks]++
			e.Burst = append(e.Burst, BurstFrame{Banks: banks, Name: name})
			if len(e.Burst) > liveness.BurstFrames {
				break
			}
		}
		if len(e.Burst) != liveness.BurstFrames || count != [4]int{2, 2, 2, 2} {
			return fmt.Errorf("burst of %d frames (off %d, left %d, right %d, both %d): want %d, two of each state",
				len(e.Burst), count[liveness.BanksOff], count[liveness.BankLeft], count[liveness.BankRight], count[liveness.BanksBoth], liveness.BurstFrames)
		}
	}
	if d := strings.TrimSpace(rec[1]); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("distance_mm %q: want empty (unknown) or whole millimetres from 1 to 1000", d)
		}
		e.DistanceMM = n
	}
	if b := strings.TrimSpace(rec[2]); b != "" {
		v, err := strconv.ParseFloat(b, 64)
		if err != nil || !(v >= 0 && v < 255) {
			return fmt.Errorf("black_level %q: want empty (liveness.DefaultBlack) or grey levels on the frames' 0..255 scale, 0 to below 255", b)
		}
		e.Black = v
	}
	return nil
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
