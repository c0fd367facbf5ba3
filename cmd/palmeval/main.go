// Command palmeval measures the quality gate, liveness, palm region
// extraction and the matcher on a labelled set and prints ISO/IEC 30107-3
// figures: APCER per attack species (liveness alone and the whole system),
// the worst species, BPCER, BPCER at APCER 1 % and 5 %, the quality-reject
// rate and region success of bona fide captures, a per-condition quality
// confusion table, per species the share two or more liveness checks
// refused and APCER(PAD) without the check that alone refuses most, and
// the matcher's FNMR and FMR on the same run's bona fide captures (split
// by the probe's condition).
//
// By default it generates a synthetic set from the tuning seeds and writes
// no files:
//
//	go run ./cmd/palmeval                              # vision/synth, tuning seeds
//	go run ./cmd/palmeval -seed-base 1000000           # its held-out seeds
//	go run ./cmd/palmeval -generator redteam           # the red-team generator (never tuned on)
//	go run ./cmd/palmeval -generator redteam -redteam-seed-base 8000000  # a red-team range for looking at failures
//	go run ./cmd/palmeval -generator both -json        # both, one JSON object per generator
//	go run ./cmd/palmeval -plot det.svg                # also a DET plot (SVG)
//	go run ./cmd/palmeval -out /tmp/set                # also write the set as PNG frames + manifest
//	go run ./cmd/palmeval -set /tmp/set                # score an external set instead
//
// vision/eval/testdata/example was made with
//
//	go run ./cmd/palmeval -identities 1 -captures 1 -conditions 0 -width 320 -pairs 5 \
//	    -kinds genuine,printed_photo,screen_replay,rigid_replica -out vision/eval/testdata/example
//
// before -out wrote each capture's burst too; it keeps the four-column
// manifest, pairs only, which stays valid.
//
// The external set format is described in the vision/eval documentation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/palmd/palmd/vision/eval"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/redteam"
	"github.com/palmd/palmd/vision/synth"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "palmeval:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("palmeval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: palmeval [-generator synth|redteam|both] [-seed-base N] [-redteam-seed-base N] [-identities N] [-captures N] [-json] [-plot FILE] [-out DIR | -set DIR]")
		fmt.Fprintln(stderr, "Scores quality, liveness (ISO/IEC 30107-3), palm region and matcher on a labelled set.")
		fs.PrintDefaults()
	}
	generator := fs.String("generator", "synth", "synthetic generator: synth (vision/synth), redteam (vision/redteam, never tuned on) or both")
	identities := fs.Int("identities", 30, "identities")
	captures := fs.Int("captures", 2, "takes per identity: each has one capture of every presentation and one genuine in a hard condition")
	conditions := fs.Int("conditions", -1, "synth: identities that also get one genuine capture per bad condition (-1: all)")
	seedBase := fs.Uint64("seed-base", eval.TuningSeedBase, fmt.Sprintf("synth: first identity seed (tuning %d, held-out %d)", eval.TuningSeedBase, eval.HeldOutSeedBase))
	redBase := fs.Uint64("redteam-seed-base", redteam.SeedBase, fmt.Sprintf("redteam: first identity seed (%d, the held-out range the README reports; another range to look at failures without tuning on that one)", redteam.SeedBase))
	width := fs.Int("width", synth.Width/2, "synth: frame width, 1280, or 640 or 320 (rendered 2x2 or 4x4 binned)")
	pairs := fs.Int("pairs", eval.SynthPairs, fmt.Sprintf("synth: strobed pairs per capture (%d to %d)", liveness.BurstPairs+1, eval.SynthPairs))
	kindList := fs.String("kinds", "", "synth: comma-separated presentations to render (default: all, plus hard genuine conditions)")
	out := fs.String("out", "", "synth: write the set as PNG frames and a manifest into this directory, then score it from there")
	set := fs.String("set", "", "score the external set in this directory instead of a synthetic one")
	asJSON := fs.Bool("json", false, "print one JSON object per generator instead of tables")
	plot := fs.String("plot", "", "write a DET plot (SVG) to this file (with -generator both, one file per generator: FILE with the generator's name inserted)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "palmeval", version)
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	gens := map[string][]string{"synth": {"synth"}, "redteam": {"redteam"}, "both": {"synth", "redteam"}}[*generator]
	if gens == nil {
		return fmt.Errorf("-generator %q: want synth, redteam or both", *generator)
	}
	if *identities < 1 || *captures < 1 || !slices.Contains(eval.Widths, *width) ||
		*pairs <= liveness.BurstPairs || *pairs > eval.SynthPairs {
		return errors.New("-identities and -captures must be positive, -width 1280, 640 or 320 and -pairs in range")
	}
	if *conditions < 0 {
		*conditions = *identities
	}
	s := eval.SynthSet{Identities: *identities, Captures: *captures, Conditions: *conditions, SeedBase: *seedBase, Width: *width, Pairs: *pairs}
	if *kindList != "" {
		for _, k := range strings.Split(*kindList, ",") {
			p, err := synth.ParsePresentation(strings.TrimSpace(k))
			if err != nil {
				return fmt.Errorf("-kinds: %w", err)
			}
			s.Kinds = append(s.Kinds, p)
		}
	}
	if *set != "" || *out != "" {
		gens = []string{"set"}
	}
	for _, gen := range gens {
		start := time.Now()
		report, what, err := evaluate(ctx, gen, s, *redBase, *set, *out, stderr)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := report.WriteJSON(stdout, gen); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(stdout, what)
			fmt.Fprintln(stdout)
			if err := report.WriteTable(stdout); err != nil {
				return err
			}
			if err := report.WriteSummary(stdout); err != nil {
				return err
			}
			fmt.Fprintln(stdout)
		}
		if *plot != "" {
			name := *plot
			if len(gens) > 1 {
				ext := strings.LastIndex(name, ".")
				if ext < 0 {
					ext = len(name)
				}
				name = name[:ext] + "-" + gen + name[ext:]
			}
			if err := writePlot(name, report, what); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "palmeval: %s: %s\n", gen, time.Since(start).Round(time.Second))
	}
	return nil
}

// evaluate scores one generator's set (or the external set).
func evaluate(ctx context.Context, gen string, s eval.SynthSet, redBase uint64, set, out string, stderr io.Writer) (*eval.Report, string, error) {
	switch gen {
	case "redteam":
		rs := redteam.Set{Identities: s.Identities, Captures: s.Captures, SeedBase: redBase}
		r, err := eval.Evaluate(ctx, rs.Len(), rs.Capture)
		return r, fmt.Sprintf("red-team set (vision/redteam): %d identities x %d takes, seed base %d: %d captures", rs.Identities, rs.Captures, redBase, rs.Len()), err
	case "synth":
		r, err := eval.Evaluate(ctx, s.Len(), s.Capture)
		return r, fmt.Sprintf("synthetic set (vision/synth): %d identities x %d takes + %d x %d bad conditions, seed base %d, %d px wide: %d captures",
			s.Identities, s.Captures, min(s.Conditions, s.Identities), 8, s.SeedBase, s.Width, s.Len()), err
	}
	if out != "" {
		if err := eval.WriteSet(ctx, out, s); err != nil {
			return nil, "", err
		}
		fmt.Fprintf(stderr, "palmeval: wrote %d captures to %s\n", s.Len(), out)
		set = out
	}
	ext, err := eval.OpenExternalSet(set)
	if err != nil {
		return nil, "", err
	}
	defer ext.Close()
	r, err := eval.Evaluate(ctx, len(ext.Entries), ext.Capture)
	return r, fmt.Sprintf("external set %s: %d captures", set, len(ext.Entries)), err
}

func writePlot(name string, r *eval.Report, title string) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("-plot: %w", err)
	}
	if err := r.WritePlot(f, title); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
