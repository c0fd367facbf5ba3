package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/vision/synth"
)

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"name":"x","steps":[{"withdraw":true},{"press":"1"}]}`,
			`step 2: action "press": want one of app_enrol, camera, card_reader, console, door, expect, gate, hover, insert_card, login, network, pos, remove_card, type, wait, withdraw`},
		{`{"name":"x","steps":[{"withdraw":true,"remove_card":true}]}`,
			"step 1: want exactly one action (one of app_enrol, camera, card_reader, console, door, expect, gate, hover, insert_card, login, network, pos, remove_card, type, wait, withdraw), have 2 (remove_card, withdraw)"},
		{`{"name":"x","steps":[{"expect":{"event":"decision","outcom":"approved"}}]}`,
			`step 1: expect: json: unknown field "outcom" (fields: event, flow, outcome, screen, reason, part, timeout)`},
		{`{"name":"x","steps":[{"expect":{"event":"decison"}}]}`,
			`step 1: expect: event: "decison": want one of cancelled, card_error, command, decision, dropped, gate, guidance, health, hover, input_error, liveness, mode, pos_answer, ready, screen, sealed, void_queued, voided`},
		{`{"name":"x","steps":[{"expect":{"event":"screen","timeout":"soon"}}]}`,
			`step 1: expect: timeout: "soon": want a positive duration such as "30s"`},
		{`{"name":"x","steps":[{"login":"guess"}]}`, `step 1: login: "guess": want one of wrong_key, right_key`},
		{`{"name":"x","steps":[{"wait":"-1s"}]}`, `step 1: wait: "-1s": want a positive duration`},
		{`{"name":"x","steps":[{"console":{"cmd":"status"}}]}`, `step 1: console: json: unknown field "cmd" (fields: run, want, error)`},
		{`{"name":"x","steps":[]}`, "steps: no steps"},
		{`{"steps":[{"withdraw":true}]}`, "name: must not be empty"},
		{"{\"name\":\"x\",\n\"steps\":[{\"withdraw\":true},]}", "f.json: line 2: invalid character ']'"},
	}
	for _, tt := range tests {
		_, err := parseScenario("f.json", []byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseScenario(%s) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// TestSchemaMatchesRunner pins the committed JSON Schema to the actions,
// events, presentations and conditions the runner and the simulator know.
func TestSchemaMatchesRunner(t *testing.T) {
	b, err := os.ReadFile("hil/scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs struct {
			Step struct {
				Properties map[string]struct {
					Enum       []string `json:"enum"`
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"properties"`
			} `json:"step"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	steps := schema.Defs.Step.Properties
	names := slices.Sorted(maps.Keys(steps))
	keys := func(m map[string]struct {
		Enum []string `json:"enum"`
	}) []string {
		return slices.Sorted(maps.Keys(m))
	}
	var presentations, conditions []string
	for _, p := range synth.Presentations() {
		presentations = append(presentations, p.String())
	}
	for _, c := range synth.Conditions() {
		conditions = append(conditions, c.String())
	}
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"actions", names, allActions},
		{"expect.event", steps["expect"].Properties["event"].Enum, eventNames},
		{"hover.presentation", steps["hover"].Properties["presentation"].Enum, presentations},
		{"hover.condition", steps["hover"].Properties["condition"].Enum, conditions},
		{"login", steps["login"].Enum, loginValues},
		{"network", steps["network"].Enum, sim.NetworkSteps()},
		{"hover fields", keys(steps["hover"].Properties), sim.Fields(sim.HoverStep{})},
		{"app_enrol fields", keys(steps["app_enrol"].Properties), sim.Fields(sim.AppEnrolStep{})},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("schema %s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestShippedSuiteParses(t *testing.T) {
	files, _ := filepath.Glob("hil/suite/*.json")
	// The simulator's scenarios the Makefile's HIL_SIM adds to the suite.
	for _, name := range []string{"age", "app_enrol", "attacks", "cloud_down", "cloud_lost", "delete", "delete_second_factor", "demo",
		"enrol_both", "entry", "lockout", "loyalty", "pay", "pay_cancel", "pay_cloud_lost", "quality"} {
		files = append(files, filepath.Join("..", "..", "drivers", "sim", "scenarios", name+".json"))
	}
	if len(files) < 8 {
		t.Fatalf("the shipped suite has %d scenarios", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseScenario(f, b); err != nil {
			t.Error(err)
		}
	}
}

// buildSim builds palmd's simulation build once per test binary.
func buildSim(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs palmd's simulation build")
	}
	bin := filepath.Join(t.TempDir(), "palmd-sim")
	out, err := exec.Command("go", "build", "-tags", "sim", "-o", bin, "../palmd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags sim ../palmd: %v\n%s", err, out)
	}
	return bin
}

// TestStatusJSON runs palmctl status --json against the simulation build
// with a console on a socket.
func TestStatusJSON(t *testing.T) {
	bin := buildSim(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "tech.key")
	tech, _, err := writeKey(key, "tech", "technician")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.json")
	if err := writeSimConfig(cfg, tech); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "console.sock")
	cmd := exec.Command(bin, "-config", cfg, "-hw=sim", "-json", "-console-socket", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	c, err := waitDial(sock, time.Minute, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("console socket: %v, %v: want mode 0600", fi.Mode(), err)
	}
	var out, errs strings.Builder
	err = run(context.Background(), []string{"-socket", sock, "-key", key, "-user", "tech", "status", "--json"}, &out, &errs)
	if err != nil {
		t.Fatalf("palmctl status --json: %v (%s)", err, errs.String())
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(out.String()), &st); err != nil {
		t.Fatalf("palmctl status --json: %q: %v", out.String(), err)
	}
	for _, field := range []string{"device", "versions", "uptime", "uptime_s", "mode", "nats", "decisions", "counters", "parts"} {
		if _, ok := st[field]; !ok {
			t.Errorf("status has no %q: %s", field, out.String())
		}
	}
	if nats := st["nats"].(map[string]any); st["device"] != "kiosk-dev-1" || nats["connected"] != true {
		t.Errorf("status: %s", out.String())
	} else if rtt, _ := nats["rtt_ms"].(float64); rtt <= 0 {
		t.Errorf("status: no round trip to the NATS server: %s", out.String())
	}
	// The wrong key is refused.
	other := filepath.Join(dir, "other.key")
	if _, _, err := writeKey(other, "tech", "technician"); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"-socket", sock, "-key", other, "-user", "tech", "status"}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "login refused") {
		t.Errorf("palmctl with a wrong key: %v, want login refused", err)
	}
}

// TestHILRunUsage: hil run's flags are checked before anything runs.
func TestHILRunUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-palmd", "palmd-sim"}, "hil run: no scenario files"},
		{[]string{"-palmd", "palmd-sim", "-parallel", "0", "hil/suite/new_hand.json"}, "hil run: -parallel 0: want at least 1"},
		{[]string{"-parallel", "2", "hil/suite/new_hand.json"}, "hil run: -parallel 2 needs -palmd: a connected kiosk runs one scenario at a time"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errs strings.Builder
			err := run(context.Background(), append([]string{"hil", "run"}, tt.args...), &out, &errs)
			var u usageError
			if !errors.As(err, &u) || err.Error() != tt.want {
				t.Errorf("hil run: %v, want usage error %q", err, tt.want)
			}
		})
	}
}

// TestHILReport runs a passing and a failing scenario at once against the
// simulation build: the run fails, and its JUnit report has one test case
// each, in the order given (the failing one ends first), the failure
// naming the step, what was expected and what came.
func TestHILReport(t *testing.T) {
	bin := buildSim(t)
	report := filepath.Join(t.TempDir(), "report.xml")
	var out, errs strings.Builder
	err := run(context.Background(), []string{"hil", "run", "-junit", report, "-palmd", bin, "-parallel", "2",
		"hil/suite/new_hand.json", "testdata/wrong_expectation.json"}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 scenarios failed") {
		t.Fatalf("hil run: %v, want 1 of 2 failed\n%s", err, out.String())
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("report: %+v", doc)
	}
	pass, fail := doc.Suites[0].Cases[0], doc.Suites[0].Cases[1]
	if pass.Name != "new_hand" || pass.Failure != nil {
		t.Errorf("new_hand: %+v", pass)
	}
	const want = "step 7: expected decision flow=enrol outcome=declined, got decision flow=enrol outcome=approved"
	if fail.Name != "wrong_expectation" || fail.Failure == nil || !strings.HasPrefix(fail.Failure.Message, want) {
		t.Errorf("wrong_expectation: %+v, want a failure %q", fail, want)
	}
	checkJUnitSchema(t, b)
	if p, f := strings.Index(out.String(), "PASS  new_hand"), strings.Index(out.String(), "FAIL  wrong_expectation"); p < 0 || f < p {
		t.Errorf("output: %s: want new_hand's pass, then wrong_expectation's failure", out.String())
	}
}

// checkJUnitSchema holds the report to what Jenkins' JUnit schema
// (xunit-plugin junit-10.xsd) allows: these elements, these attributes,
// the required ones present, times as decimal seconds.
func checkJUnitSchema(t *testing.T, doc []byte) {
	t.Helper()
	allowed := map[string][]string{
		"testsuites": {"name", "time", "tests", "failures", "errors"},
		"testsuite": {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname",
			"id", "package", "file", "log", "url"},
		"testcase":   {"name", "time", "classname", "group"},
		"failure":    {"type", "message"},
		"system-err": {},
	}
	required := map[string][]string{"testsuite": {"name", "tests", "failures", "errors"}, "testcase": {"name"}}
	seconds := regexp.MustCompile(`^[0-9]+(\.[0-9]*)?$`)
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attrs, known := allowed[el.Name.Local]
		if !known {
			t.Errorf("report: element <%s> is not in the JUnit schema", el.Name.Local)
			continue
		}
		have := map[string]bool{}
		for _, a := range el.Attr {
			have[a.Name.Local] = true
			if !slices.Contains(attrs, a.Name.Local) {
				t.Errorf("report: <%s %s=…>: attribute not in the JUnit schema", el.Name.Local, a.Name.Local)
			}
			if a.Name.Local == "time" && !seconds.MatchString(a.Value) {
				t.Errorf("report: <%s time=%q>: want decimal seconds", el.Name.Local, a.Value)
			}
		}
		for _, r := range required[el.Name.Local] {
			if !have[r] {
				t.Errorf("report: <%s> has no %s", el.Name.Local, r)
			}
		}
	}
}

// TestHILFlowSteps runs scenarios with the simulator's point-of-sale and
// gate steps against the simulation build: a wrong gate count fails at
// its step, a door step with an unknown value is refused before anything
// runs, each naming the step, the field and what was wanted.
func TestHILFlowSteps(t *testing.T) {
	bin := buildSim(t)
	tests := []struct{ file, want string }{
		{"testdata/wrong_gate.json", "step 4: sim: gate: the gate pulsed 0 times, want 1"},
		{"testdata/bad_door.json", `step 3: sim: door: "ajar": want "open" or "close"`},
	}
	for _, tt := range tests {
		var out, errs strings.Builder
		err := run(context.Background(), []string{"hil", "run", "-palmd", bin, tt.file}, &out, &errs)
		if err == nil || !strings.Contains(out.String(), tt.want) {
			t.Errorf("hil run %s: %v, want a failure %q\n%s", tt.file, err, tt.want, out.String())
		}
	}
}
