//go:build sim

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/vision/synth"
)

// TestLinuxRigEnrolsAndIdentifies runs the whole daemon with --hw=linux on
// the Linux drivers over the fake rig, with the embedded NATS server and reference cloud:
// a card swiped on the pty, a phone number typed as input events, a palm
// rendered by the fake V4L2 camera as the GPIO LED pin lights it, sensed
// by the register-level ToF fake. It enrols a person, identifies her, and
// does not recognise a stranger.
func TestLinuxRigEnrolsAndIdentifies(t *testing.T) {
	if testing.Short() {
		t.Skip("renders full-size synthetic frames")
	}
	playLinuxRig(t)
}

// BenchmarkLinuxRigMemory serves the same sessions on the fake Linux rig
// (the Linux drivers, no simulated part in the kiosk) and reports the
// process's peak resident set and Go heap. The process also holds the
// embedded NATS server, the reference cloud and the renderer the fake
// camera draws with: the figures bound palmd's own from above.
func BenchmarkLinuxRigMemory(b *testing.B) {
	for b.Loop() {
		playLinuxRig(b)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	if hwm, err := peakRSS(); err == nil {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-rss-MB")
	}
}

// peakRSS reads the process's peak resident set (VmHWM) in bytes.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// playLinuxRig enrols a person on the fake Linux rig, identifies her, and
// does not recognise a stranger.
func playLinuxRig(t testing.TB) {
	lcfg, s, rig := fakeLinuxRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer func() {
		if t.Failed() {
			t.Logf("palmd log:\n%s", logs.String())
		}
	}()
	cfg := config.Default()
	cfg.Hardware, cfg.Linux = "linux", lcfg

	// The whole daemon, as run() starts it, on the fake rig: its events
	// are read back from the JSON lines it prints.
	pr, pw := io.Pipe()
	events := make(chan bus.Event, 1024)
	go func() {
		defer close(events)
		dec := json.NewDecoder(pr)
		for {
			var ev bus.Event
			if dec.Decode(&ev) != nil {
				return
			}
			events <- ev
		}
	}()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- serve(runCtx, cfg, log, output{w: pw}, consoleFlags{}, nil, s)
		pw.Close()
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("palmd: %v", err)
		}
	}()

	await := func(event, screen, flow, outcome string) {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("palmd stopped before a %s %s%s%s event", event, screen, flow, outcome)
				}
				if ev.Event != event || (screen != "" && ev.Screen != screen) {
					continue
				}
				if (flow != "" && ev.Flow != flow) || (outcome != "" && ev.Outcome != outcome) {
					t.Fatalf("got %s flow=%s outcome=%s reason=%s, want flow=%s outcome=%s",
						ev.Event, ev.Flow, ev.Outcome, ev.Reason, flow, outcome)
				}
				return
			case <-ctx.Done():
				t.Fatalf("no %s %s%s%s event", event, screen, flow, outcome)
			}
		}
	}
	alice := synth.IdentityOf("alice")

	await("screen", "idle", "", "")
	rig.Swipe(t, ";4539578763621486=28121010000000000?<")
	await("screen", "enter_phone", "", "")
	// "5550100200" then Enter, as Linux key codes (KEY_1 = 2 … KEY_0 = 11).
	rig.Press(t, 6, 6, 6, 11, 2, 11, 11, 3, 11, 11, 28)
	await("screen", "hover", "", "")
	rig.Hover(synth.Capture{Identity: alice, Seed: 1})
	for seed := range uint64(2) { // three captures of the palm, lifted between them
		await("screen", "palm_again", "", "")
		rig.Rehover(synth.Capture{Identity: alice, Seed: 10 + seed})
	}
	await("decision", "", "enrol", "approved")
	rig.Withdraw()
	rig.Swipe(t, "CARD OUT")
	await("screen", "idle", "", "")

	rig.Hover(synth.Capture{Identity: alice, Seed: 2})
	await("decision", "", "identify", "approved")
	rig.Withdraw()
	await("screen", "idle", "", "")

	// Someone never enrolled is not let in.
	rig.Hover(synth.Capture{Identity: synth.IdentityOf("mallory"), Seed: 3})
	await("decision", "", "identify", "not_recognized")
	rig.Withdraw()
	await("screen", "idle", "", "")
}
