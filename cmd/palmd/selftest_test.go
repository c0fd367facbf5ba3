//go:build sim

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/config"
)

// writeConfig writes a configuration file for the Linux section l.
func writeConfig(t *testing.T, l config.Linux) string {
	t.Helper()
	c := config.Default()
	c.Hardware, c.Linux = "linux", l
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "palmd.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSelftestOnFakeRig(t *testing.T) {
	cfg, s, rig := fakeLinuxRig(t)
	path := writeConfig(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, logs bytes.Buffer
	if err := selftest(ctx, []string{"-config", path, "-pulse-gate"}, &out, &logs, s); err != nil {
		t.Fatalf("selftest: %v\n%s%s", err, out.String(), logs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	parts := []string{firmware.PartDisplay, firmware.PartCamera, firmware.PartLight, firmware.PartPresence,
		firmware.PartCards, firmware.PartKeypad, firmware.PartGate}
	if len(lines) != len(parts)+1 {
		t.Fatalf("output:\n%s", out.String())
	}
	for i, p := range parts {
		if !strings.HasPrefix(lines[i], p) || !strings.Contains(lines[i], "PASS") {
			t.Errorf("line %d = %q, want %s PASS", i, lines[i], p)
		}
	}
	if !strings.Contains(lines[1], "1280x800, unlit mean 10, lit mean 18") || !strings.Contains(lines[6], "relay pulsed, door closed") {
		t.Errorf("details missing:\n%s", out.String())
	}
	if rig.LED.Read() != gpio.Low || rig.Relay.Read() != gpio.Low {
		t.Error("LEDs or relay left on")
	}
}

func TestSelftestReportsBrokenPart(t *testing.T) {
	cfg, s, rig := fakeLinuxRig(t)
	rig.camera.broken = true
	var out bytes.Buffer
	err := selftest(context.Background(), []string{"-config", writeConfig(t, cfg)}, &out, new(bytes.Buffer), s)
	if !errors.Is(err, firmware.ErrSelftest) || !strings.Contains(err.Error(), "camera") {
		t.Fatalf("selftest = %v, want the camera named", err)
	}
	if !strings.Contains(out.String(), "camera    FAIL") || strings.Contains(out.String(), "all parts passed") {
		t.Errorf("output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "relay not pulsed") {
		t.Errorf("gate pulsed without -pulse-gate:\n%s", out.String())
	}
}

func TestSelftestTestsTheOthersWhenAPartIsMissing(t *testing.T) {
	cfg, s, _ := fakeLinuxRig(t)
	cfg.Presence.Bus = "/dev/i2c-9"
	var out bytes.Buffer
	err := selftest(context.Background(), []string{"-config", writeConfig(t, cfg)}, &out, new(bytes.Buffer), s)
	if !errors.Is(err, firmware.ErrSelftest) || !strings.Contains(err.Error(), "presence") {
		t.Fatalf("selftest = %v, want presence named", err)
	}
	if got := strings.Count(out.String(), "PASS"); got != 6 || !strings.Contains(out.String(), "presence  FAIL  linux.presence.bus") {
		t.Errorf("want 6 parts passing and the bus named:\n%s", out.String())
	}
}

func TestSelftestSimAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := runSelftest(context.Background(), []string{"-hw", "sim"}, &out, new(bytes.Buffer)); err != nil {
		t.Fatalf("simulated selftest: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "all parts passed") {
		t.Errorf("output:\n%s", out.String())
	}
	var u usageError
	if err := runSelftest(context.Background(), []string{"-nope"}, new(bytes.Buffer), new(bytes.Buffer)); !errors.As(err, &u) {
		t.Errorf("bad flag: %v, want a usage error", err)
	}
	if err := runSelftest(context.Background(), []string{"extra"}, new(bytes.Buffer), new(bytes.Buffer)); !errors.As(err, &u) {
		t.Errorf("extra argument: %v, want a usage error", err)
	}
}
