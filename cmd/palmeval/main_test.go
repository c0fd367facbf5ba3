package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palmd/palmd/vision/eval"
	"github.com/palmd/palmd/vision/liveness"
)

func TestRunExternalSet(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"-set", "../../vision/eval/testdata/example"}, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"4 captures", "printed_photo", "screen_replay", "rigid_replica", "BPCER", "0.00%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunWritesOnlyWithOut(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(wd)
	set := filepath.Join(dir, "set")
	var out, errb bytes.Buffer
	args := []string{"-identities", "1", "-captures", "1", "-conditions", "0", "-width", "320", "-pairs", "5", "-kinds", "genuine,screen_replay", "-out", set}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	frames, err := filepath.Glob(filepath.Join(set, "*", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (5*2 + liveness.BurstFrames); len(frames) != want {
		t.Errorf("wrote %d frames, want %d (two kinds, 5 pairs and a burst each)", len(frames), want)
	}
	if _, err := os.Stat(filepath.Join(set, "manifest.csv")); err != nil {
		t.Error(err)
	}
	if after, _ := os.ReadDir(wd); len(after) != len(before) {
		t.Error("run wrote into the working directory")
	}
	if !strings.Contains(out.String(), "external set") {
		t.Errorf("the written set was not scored from disk:\n%s", out.String())
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-identities", "0"},
		{"-width", "300"},
		{"-pairs", "2"},
		{"extra"},
		{"-set", "/nonexistent/set"},
		{"-generator", "other"},
		{"-kinds", "paper_plane"},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, &out, &errb); err != nil || out.String() != "palmeval dev\n" {
		t.Errorf("-version: err %v, output %q, want \"palmeval dev\"", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"-h"}, &out, &errb); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "usage: palmeval") {
		t.Errorf("-h: err %v (main exits 0 on flag.ErrHelp), usage %q", err, errb.String())
	}
}

// TestJSONAndPlot runs both generators on a tiny set and checks the JSON
// schema the issue promises and that a DET plot is written per generator.
func TestJSONAndPlot(t *testing.T) {
	if raceEnabled {
		t.Skip("renders 20 captures: too slow under the race detector")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"-generator", "both", "-identities", "1", "-captures", "1", "-conditions", "0", "-json", "-plot", filepath.Join(dir, "det.svg")}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	dec := json.NewDecoder(&out)
	for _, gen := range []string{"synth", "redteam"} {
		var v struct {
			Generator string `json:"generator"`
			Species   map[string]struct {
				Captures    *int     `json:"captures"`
				APCERPAD    *float64 `json:"apcer_pad"`
				APCERSystem *float64 `json:"apcer_system"`
			} `json:"species"`
			BonaFide struct {
				Captures      *int     `json:"captures"`
				BPCER         *float64 `json:"bpcer"`
				QualityReject *float64 `json:"quality_reject"`
				ROIFound      *float64 `json:"roi_found"`
			} `json:"bona_fide"`
			BPCERAt1 *float64 `json:"bpcer_at_apcer_1"`
		}
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", gen, err)
		}
		if v.Generator != gen || len(v.Species) != 8 || v.BonaFide.Captures == nil || *v.BonaFide.Captures != 2 ||
			v.BonaFide.BPCER == nil || v.BonaFide.QualityReject == nil || v.BonaFide.ROIFound == nil || v.BPCERAt1 == nil {
			t.Errorf("%s: JSON %+v lacks fields", gen, v)
		}
		for label, sp := range v.Species {
			if sp.Captures == nil || *sp.Captures != 1 || sp.APCERPAD == nil || sp.APCERSystem == nil || *sp.APCERSystem > *sp.APCERPAD {
				t.Errorf("%s %s: %+v", gen, label, sp)
			}
		}
		svg, err := os.ReadFile(filepath.Join(dir, "det-"+gen+".svg"))
		if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("vein_replica")) {
			t.Errorf("%s: DET plot: %v, %.80q", gen, err, svg)
		}
	}
}

// TestRedTeamSeedBase checks that -redteam-seed-base picks the red team's
// identities and that the summary splits the matcher's misses by the
// probe's condition.
func TestRedTeamSeedBase(t *testing.T) {
	if raceEnabled {
		t.Skip("renders 20 captures: too slow under the race detector")
	}
	var out, errb bytes.Buffer
	args := []string{"-generator", "redteam", "-redteam-seed-base", "8000000", "-identities", "1", "-captures", "2"}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	for _, want := range []string{"seed base 8000000", "FNMR by the probe's condition:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	r, _, err := evaluate(context.Background(), "redteam", eval.SynthSet{Identities: 1, Captures: 1}, 8000000, "", "", &errb)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Outcomes {
		if o.Identity != "rt-8000000" {
			t.Fatalf("identity %q, want rt-8000000", o.Identity)
		}
	}
}
