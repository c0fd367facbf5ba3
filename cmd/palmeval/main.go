// Command palmeval measures the quality gate, liveness and palm region
// extraction on a labelled set and prints ISO/IEC 30107-3 style error
// rates: APCER per attack kind, BPCER, the quality-reject rate of good
// genuine captures, the region success rate and a per-condition quality
// confusion table.
//
// By default it generates a synthetic set from the tuning seeds and writes
// no files:
//
//	go run ./cmd/palmeval                         # tuning seeds
//	go run ./cmd/palmeval -seed-base 1000000      # the held-out seeds of TestHeldOutFigures
//	go run ./cmd/palmeval -out /tmp/set           # also write the set as PNG frames + manifest
//
// vision/eval/testdata/example was made with
//
//	go run ./cmd/palmeval -identities 1 -captures 1 -conditions 0 -width 320 -pairs 5 \
//	    -kinds genuine,printed_photo,screen_replay,rigid_replica -out vision/eval/testdata/example
//
//	go run ./cmd/palmeval -set /tmp/set           # score an external set instead
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
	"github.com/palmd/palmd/vision/synth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "palmeval:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("palmeval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	identities := fs.Int("identities", 30, "synthetic identities")
	captures := fs.Int("captures", 4, "good captures per identity and presentation kind")
	conditions := fs.Int("conditions", -1, "identities that also get one genuine capture per bad condition (-1: all)")
	seedBase := fs.Uint64("seed-base", eval.TuningSeedBase, fmt.Sprintf("first identity seed (tuning %d, held-out %d)", eval.TuningSeedBase, eval.HeldOutSeedBase))
	width := fs.Int("width", synth.Width, "frame width: 1280, or 640 or 320 (rendered 2x2 or 4x4 binned)")
	pairs := fs.Int("pairs", eval.SynthPairs, fmt.Sprintf("strobed pairs per synthetic capture (%d to %d)", liveness.BurstPairs+1, eval.SynthPairs))
	out := fs.String("out", "", "write the synthetic set as PNG frames and a manifest into this directory, then score it from there")
	set := fs.String("set", "", "score the external set in this directory instead of a synthetic one")
	kindList := fs.String("kinds", "", "comma-separated presentations to render (default: all, plus hard genuine conditions)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
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

	start := time.Now()
	if *out != "" {
		if err := eval.WriteSet(ctx, *out, s); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "palmeval: wrote %d captures to %s\n", s.Len(), *out)
		*set = *out
	}
	var (
		report *eval.Report
		err    error
		what   string
	)
	if *set != "" {
		ext, oerr := eval.OpenExternalSet(*set)
		if oerr != nil {
			return oerr
		}
		defer ext.Close()
		what = fmt.Sprintf("external set %s: %d captures", *set, len(ext.Entries))
		report, err = eval.Evaluate(ctx, len(ext.Entries), ext.Capture)
	} else {
		what = fmt.Sprintf("synthetic set: %d identities x %d takes + %d x %d bad conditions, seed base %d, %d px wide: %d captures",
			s.Identities, s.Captures, min(s.Conditions, s.Identities), 8, s.SeedBase, *width, s.Len())
		report, err = eval.Evaluate(ctx, s.Len(), s.Capture)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, what)
	fmt.Fprintln(stdout)
	if err := report.WriteTable(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "palmeval: %s\n", time.Since(start).Round(time.Second))
	return nil
}
