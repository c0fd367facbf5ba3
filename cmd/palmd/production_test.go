//go:build !sim

package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// The production build serves nobody without a configured cloud, and has
// no simulator to fall back on.
func TestProductionRefusesWhatOnlyTheSimulatorDoes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no cloud URL", []string{"-hw", "linux"}, "uplink.url: required"},
		{"simulated hardware", []string{"-hw", "sim"}, "production build, without the simulator"},
		{"scenario flag", []string{"-scenario", "demo"}, "flag provided but not defined: -scenario"},
		{"no kiosk page", []string{"-web", "127.0.0.1:8080"}, "flag provided but not defined: -web"},
		{"no screen dumps", []string{"-screens", "/tmp/x"}, "flag provided but not defined: -screens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a usage error with %q", err, tt.want)
			}
		})
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, strings.NewReader(""), &stdout, &stdout); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if out := stdout.String(); !strings.Contains(out, "Usage:") || strings.Contains(out, "scenario") || strings.Contains(out, "-web") {
		t.Errorf("production usage %q: want usage without the simulator's flags", out)
	}
}
