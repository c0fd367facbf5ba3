package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	args := []string{"-identities", "1", "-captures", "1", "-conditions", "0", "-width", "320", "-pairs", "5", "-out", set}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	frames, err := filepath.Glob(filepath.Join(set, "*", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 10*5*2 {
		t.Errorf("wrote %d frames, want %d (9 kinds and a hard genuine condition, 5 pairs)", len(frames), 10*5*2)
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
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}
