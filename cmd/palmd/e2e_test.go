//go:build sim

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/uplink/dev/devtest"
)

// onFrameClock runs f in a testing/synctest bubble (devtest.Bubble).
// Inside it time is the bubble's: it moves only when every goroutine of
// the bubble waits, so a simulator paced on it (sim.FrameClock) delivers
// frames at the sensor's period and palmd's timeouts count sensor time,
// however slowly the machine renders (the race detector included).
// Everything in the bubble must wait on channels and timers, never on a
// socket: palmd's embedded cloud connects in-process (dev.StartInProcess).
func onFrameClock(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	devtest.Bubble(t, f)
}

// renders keeps the scenes and frames the tests' worlds render: the
// simulation draws its lighting patterns from a fixed seed, so the
// scenarios that begin alike (most enrol Alice first) take the same frames,
// and a frame is a pure function of its capture, index and light.
var renders = sim.NewCache(32, 128)

// playScenario plays the built-in scenario name (playOnFrameClock, 3
// minutes of the frame clock at most).
func playScenario(t *testing.T, name string) (*sim.World, []bus.Event, error) {
	t.Helper()
	sc, err := sim.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	return playOnFrameClock(t, sc, 3*time.Minute)
}

// playOnFrameClock runs the kiosk on a fresh simulated world paced on the
// frame clock (onFrameClock), with the embedded NATS server and reference
// cloud, plays sc for at most limit of that clock, and returns the world,
// the decoded events and serve's error (palmd's log is in the test's).
func playOnFrameClock(t *testing.T, sc sim.Scenario, limit time.Duration) (world *sim.World, evs []bus.Event, err error) {
	t.Helper()
	onFrameClock(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		world = sim.NewWorld(sim.FrameClock(clockwork.NewRealClock()), sim.Cached(renders))
		var out bytes.Buffer
		var logs strings.Builder
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		err = serve(ctx, config.Default(), log, output{w: &out}, consoleFlags{}, &simulation{world: world, play: &sc}, seams{})
		if err != nil {
			t.Logf("palmd log:\n%s", logs.String())
		}
		evs = decodeEvents(t, out.Bytes())
	})
	return world, evs, err
}

func decodeEvents(t *testing.T, b []byte) []bus.Event {
	t.Helper()
	var evs []bus.Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var ev bus.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stdout line %q is not a JSON event: %v", sc.Text(), err)
		}
		if ev.Event == "" {
			t.Fatalf("stdout line %q has no event field", sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs
}

func decisions(evs []bus.Event) []bus.Event {
	var ds []bus.Event
	for _, ev := range evs {
		if ev.Event == bus.Decision {
			ds = append(ds, ev)
		}
	}
	return ds
}

func screenNames(w *sim.World) []string {
	var names []string
	for _, s := range w.Screens() {
		names = append(names, s.Name)
	}
	return names
}

func TestDemoEndToEnd(t *testing.T) {
	world, evs, err := playScenario(t, "demo")
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	ds := decisions(evs)
	want := []struct{ flow, outcome string }{
		{"enrol", "approved"}, {"identify", "approved"}, {"identify", "not_recognized"},
	}
	if len(ds) != len(want) {
		t.Fatalf("decisions = %+v, want %v", ds, want)
	}
	for i, w := range want {
		if ds[i].Flow != w.flow || ds[i].Outcome != w.outcome {
			t.Errorf("decision %d = %s/%s, want %s/%s", i, ds[i].Flow, ds[i].Outcome, w.flow, w.outcome)
		}
	}
	if ds[0].Subject == "" || ds[1].Subject != ds[0].Subject {
		t.Errorf("identify matched subject %q, enrolled %q: want the same person", ds[1].Subject, ds[0].Subject)
	}
	if ds[2].Subject != "" {
		t.Errorf("a stranger got subject %q", ds[2].Subject)
	}

	// What the display showed, in order.
	names := screenNames(world)
	order := []string{"idle", "enter_phone", "hover", "enrolled", "idle", "approved", "idle", "not_recognized", "idle"}
	at := 0
	for _, n := range names {
		if at < len(order) && n == order[at] {
			at++
		}
	}
	if at != len(order) {
		t.Errorf("screens %v do not show %v in order (stopped at %q)", names, order, order[at])
	}
	for _, s := range world.Screens() {
		text := s.Title + s.Body
		if strings.Contains(text, "45395787") || strings.Contains(text, "5550100") {
			t.Errorf("screen %q shows a card or phone number in clear: %q", s.Name, text)
		}
		if s.Name == "enter_phone" && !strings.Contains(s.Title, "1486") {
			t.Errorf("phone entry screen %q does not name the card by its last four digits", s.Title)
		}
	}
	if got := world.GateOpens(); got != 1 {
		t.Errorf("gate opened %d times, want once (for the approved identification)", got)
	}
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name string
		want []string // flow/outcome of each decision, alternatives split by |
	}{
		{"delete", []string{"enrol/approved", "delete/approved", "identify/not_recognized"}},
		{"attacks", append(append([]string{"enrol/approved"}, slices.Repeat([]string{"identify/spoof_rejected"}, 8)...),
			"identify/approved")},
		{"quality", []string{"identify/retry", "identify/not_recognized"}},
		{"cloud_down", []string{"identify/not_recognized|identify/spoof_rejected"}},
		{"cloud_lost", []string{"enrol/approved", "identify/approved"}},
		{"delete_second_factor", []string{"enrol/approved", "delete/not_recognized", "identify/approved",
			"delete/approved", "identify/not_recognized"}},
		{"lockout", append(append([]string{"enrol/approved"}, slices.Repeat([]string{"identify/not_recognized|identify/spoof_rejected"}, 10)...),
			"identify/retry")},
		{"pay", []string{"enrol/approved", "pay/approved", "pay/declined"}},
		{"pay_cancel", []string{"pay/not_recognized|pay/spoof_rejected"}},
		{"pay_cloud_lost", []string{"enrol/approved"}},
		{"loyalty", []string{"enrol/approved", "loyalty/approved", "loyalty/not_recognized|loyalty/spoof_rejected"}},
		{"age", []string{"enrol/approved", "age/declined"}},
		{"app_enrol", []string{"identify/not_recognized|identify/spoof_rejected", "identify/approved", "identify/approved"}},
		{"entry", []string{"enrol/approved", "identify/approved", "identify/not_recognized|identify/spoof_rejected"}},
		{"enrol_both", []string{"enrol/approved", "identify/approved", "identify/approved", "identify/not_recognized|identify/spoof_rejected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			world, evs, err := playScenario(t, tt.name)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var got []string
			for _, d := range decisions(evs) {
				got = append(got, d.Flow+"/"+d.Outcome)
			}
			if !slices.EqualFunc(got, tt.want, func(g, w string) bool { return slices.Contains(strings.Split(w, "|"), g) }) {
				t.Errorf("decisions = %v, want %v", got, tt.want)
			}
			// Only captures the cloud decided on were sealed: nothing the
			// kiosk rejected itself (attack, bad capture) left it.
			sealed := map[string]bool{}
			for _, ev := range evs {
				if ev.Event == bus.Sealed {
					sealed[ev.Session] = true
				}
			}
			for _, d := range decisions(evs) {
				local := d.Outcome == "spoof_rejected" || d.Outcome == "retry" // locked_out is a retry too
				if local && sealed[d.Session] {
					t.Errorf("session %s ended %s at the kiosk but its capture was sealed", d.Session, d.Outcome)
				}
				if !local && !sealed[d.Session] {
					t.Errorf("session %s got a cloud decision (%s) without a sealed capture", d.Session, d.Outcome)
				}
			}
			if tt.name == "cloud_lost" {
				// The identification whose answer was lost ended
				// cancelled, the gate still; only the next one opened it.
				var cancelled []string
				for _, ev := range evs {
					if ev.Event == bus.Cancelled {
						cancelled = append(cancelled, ev.Flow+"/"+ev.Reason)
					}
				}
				if !slices.Equal(cancelled, []string{"identify/cloud_down"}) || world.GateOpens() != 1 {
					t.Errorf("cancelled %v, gate pulsed %d times; want [identify/cloud_down], 1", cancelled, world.GateOpens())
				}
			}
			if tt.name == "pay_cloud_lost" {
				// The payment whose answer was lost ended cancelled and
				// was voided, once, when the network was back.
				var ended []string
				for _, ev := range evs {
					switch ev.Event {
					case bus.Cancelled, bus.VoidQueued, bus.Voided:
						ended = append(ended, ev.Event+"/"+ev.Flow+"/"+ev.Reason)
					}
				}
				if want := []string{"void_queued/pay/", "cancelled/pay/cloud_down", "voided/pay/voided"}; !slices.Equal(ended, want) {
					t.Errorf("events %v, want %v", ended, want)
				}
			}
			if tt.name == "enrol_both" {
				checkBothPalms(t, world, decisions(evs))
			}
			if tt.name == "quality" && !slices.Contains(screenNames(world), "out_of_service") {
				t.Errorf("an unplugged camera did not put the kiosk out of service: %v", screenNames(world))
			}
		})
	}
}

// checkBothPalms checks the enrol_both scenario: each palm was captured
// three times (two "once more" screens a palm), the left palm first, and
// each is recognised as the one person enrolled.
func checkBothPalms(t *testing.T, world *sim.World, ds []bus.Event) {
	t.Helper()
	var prompts []string
	for _, n := range screenNames(world) {
		if n == "hover_left" || n == "palm_again" || n == "hover_right" || n == "enrolled" {
			prompts = append(prompts, n)
		}
	}
	want := []string{"hover_left", "palm_again", "palm_again", "hover_right", "palm_again", "palm_again", "enrolled"}
	if !slices.Equal(prompts, want) {
		t.Errorf("enrolment prompts %v, want %v", prompts, want)
	}
	if len(ds) < 3 || ds[0].Subject == "" || ds[1].Subject != ds[0].Subject || ds[2].Subject != ds[0].Subject {
		t.Errorf("the left and right palms were not both recognised as the person enrolled: %+v", ds)
	}
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "fail.json")
	os.WriteFile(failing, []byte(`{"name":"fail","steps":[
		{"hover":{"person":"zoe"}},
		{"expect":{"event":"decision","outcome":"approved"}}]}`), 0o600)
	notProvisioned := filepath.Join(dir, "unprovisioned.json")
	os.WriteFile(notProvisioned, []byte(`{"name":"unprovisioned","steps":[
		{"expect":{"event":"screen","screen":"not_provisioned"}},
		{"hover":{"person":"zoe"}},
		{"insert_card":"4539578763621486"},
		{"expect":{"event":"dropped"}}]}`), 0o600)
	badConfig := filepath.Join(dir, "bad.json")
	os.WriteFile(badConfig, []byte(`{"hardware":"fpga"}`), 0o600)
	german := filepath.Join(dir, "de.json")
	os.WriteFile(german, []byte(`{"language":"de"}`), 0o600)
	french := filepath.Join(dir, "fr.json")
	os.WriteFile(french, []byte(`{"language":"fr"}`), 0o600)

	tests := []struct {
		name      string
		args      []string
		usage     bool   // want a usageError (exit 2)
		wantErr   string // substring of the error; "" for success
		wantInOut string
	}{
		{"unknown flag", []string{"-frobnicate"}, true, "frobnicate", ""},
		{"bad config", []string{"-config", badConfig}, true, "hardware", ""},
		{"check ok", []string{"-t"}, false, "", "configuration ok"},
		{"german screens", []string{"-t", "-config", german}, false, "", "configuration ok"},
		{"a language without a catalogue", []string{"-t", "-config", french}, true, `language: "fr": want one of en, de`, ""},
		{"unknown scenario", []string{"-scenario", "nope"}, true, "nope", ""},
		{"failing expectation", []string{"-scenario", failing}, false, "expected decision outcome=approved", ""},
		{"snapshot alone", []string{"-snapshot", filepath.Join(dir, "x.png")}, true, "-scenario", ""},
		{"help", []string{"-h"}, false, "", "Built-in scenarios: " + strings.Join(sim.Builtin(), ", ")},
		// A cloud URL without its keys: the kiosk waits, serving nobody.
		{"not provisioned", []string{"-nats", "nats://127.0.0.1:4222", "-scenario", notProvisioned}, false, "", ""},
		{"image config, not provisioned", []string{"-t", "-config", "../../buildroot/board/palmkiosk/overlay/usr/share/palmd/config.json"},
			false, "", "not provisioned yet (missing uplink.seal_key"},
		{"version", []string{"-version"}, false, "", "palmd dev"},
		{"selftest help", []string{"selftest", "-h"}, false, "", "-pulse-gate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := run(ctx, tt.args, strings.NewReader(""), &stdout, &stderr)
			var u usageError
			if errors.As(err, &u) != tt.usage {
				t.Errorf("usage error = %v, want %v (err %v)", errors.As(err, &u), tt.usage, err)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(stdout.String(), tt.wantInOut) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.wantInOut)
			}
		})
	}
}

// TestSnapshotShowsTheFinalScreen plays a short scenario with -snapshot and
// checks that the PNG is the screen the scenario ended on (the idle screen's
// blue bar and text), not the blank screen of a halted display.
func TestSnapshotShowsTheFinalScreen(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "idle.json")
	os.WriteFile(sc, []byte(`{"name":"idle","steps":[{"expect":{"event":"screen","screen":"idle"}}]}`), 0o600)
	shot := filepath.Join(dir, "screen.png")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"-scenario", sc, "-snapshot", shot}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	want := display.ToneColour(display.Info)
	colours := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colours[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	if colours[want] == 0 || len(colours) < 3 {
		t.Errorf("snapshot has %d colours and %d pixels of the idle screen's accent: not the idle screen", len(colours), colours[want])
	}
}
