package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/console"
)

// A scenario is a JSON document (hil/scenario.schema.json):
//
//	{"name": "enrol", "description": "…", "steps": [
//	  {"insert_card": "4539578763621486"},
//	  {"type": "5550100200[enter]"},
//	  {"hover": {"person": "alice"}},
//	  {"expect": {"event": "decision", "flow": "enrol", "outcome": "approved"}}
//	]}
//
// Each step holds one action. The kiosk applies the stimuli (simActions)
// to its simulated hardware; on a rig, people or robots do. The runner
// does the rest itself (runnerActions).
type scenario struct {
	Name        string                       `json:"name"`
	Description string                       `json:"description,omitempty"`
	Steps       []map[string]json.RawMessage `json:"steps"`
	file        string
}

var (
	// The stimuli are the simulator's actions (sim.Step) but expect,
	// which the runner sends to the console's own command.
	simActions    = slices.DeleteFunc(sim.Actions(), func(a string) bool { return a == "expect" })
	runnerActions = []string{"console", "expect", "login", "wait"}
	allActions    = slices.Sorted(slices.Values(append(slices.Clone(simActions), runnerActions...)))
	// The events the kiosk publishes (firmware/bus).
	eventNames = slices.Sorted(slices.Values([]string{bus.Cancelled, bus.CardError, bus.Command, bus.Decision,
		bus.Dropped, bus.Gate, bus.Guidance, bus.Health, bus.Hover, bus.InputError, bus.Liveness, bus.Mode,
		bus.POSAnswer, bus.Ready, bus.Screen, bus.Sealed, bus.VoidQueued, bus.Voided}))
	expectFields  = []string{"event", "flow", "outcome", "screen", "reason", "part", "timeout"}
	consoleFields = []string{"run", "want", "error"}
	loginValues   = []string{"wrong_key", "right_key"}
)

// consoleStep runs a console command; the answer must hold Want, or be an
// error holding Error.
type consoleStep struct {
	Run   string `json:"run"`
	Want  string `json:"want,omitempty"`
	Error string `json:"error,omitempty"`
}

// parseScenario decodes and checks what the runner can check itself; the
// stimuli are checked by the kiosk (sim check) before anything runs.
func parseScenario(file string, b []byte) (scenario, error) {
	var s scenario
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line := bytes.Count(b[:min(int(syn.Offset), len(b))], []byte("\n")) + 1
			return s, fmt.Errorf("%s: line %d: %w", file, line, err)
		}
		return s, fmt.Errorf("%s: %w (fields: name, description, steps)", file, err)
	}
	s.file = file
	if s.Name == "" {
		return s, fmt.Errorf("%s: name: must not be empty", file)
	}
	if len(s.Steps) == 0 {
		return s, fmt.Errorf("%s: steps: no steps", file)
	}
	for i, st := range s.Steps {
		if err := checkStep(st); err != nil {
			return s, fmt.Errorf("%s: step %d: %w", file, i+1, err)
		}
	}
	return s, nil
}

func action(st map[string]json.RawMessage) (string, json.RawMessage) {
	for k, v := range st {
		return k, v
	}
	return "", nil
}

func strictDecode(raw json.RawMessage, v any, what string, fields []string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w (fields: %s)", what, err, strings.Join(fields, ", "))
	}
	return nil
}

func checkStep(st map[string]json.RawMessage) error {
	if len(st) != 1 {
		return fmt.Errorf("want exactly one action (one of %s), have %d (%s)", strings.Join(allActions, ", "),
			len(st), strings.Join(slices.Sorted(maps.Keys(st)), ", "))
	}
	name, raw := action(st)
	switch name {
	case "expect":
		var x console.Expectation
		if err := strictDecode(raw, &x, "expect", expectFields); err != nil {
			return err
		}
		if !slices.Contains(eventNames, x.Event) {
			return fmt.Errorf("expect: event: %q: want one of %s", x.Event, strings.Join(eventNames, ", "))
		}
		if x.Timeout != "" {
			if d, err := time.ParseDuration(x.Timeout); err != nil || d <= 0 {
				return fmt.Errorf("expect: timeout: %q: want a positive duration such as \"30s\"", x.Timeout)
			}
		}
	case "wait":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errors.New(`wait: want a duration such as "2s"`)
		}
		if d, err := time.ParseDuration(s); err != nil || d <= 0 {
			return fmt.Errorf("wait: %q: want a positive duration such as \"2s\"", s)
		}
	case "console":
		var c consoleStep
		if err := strictDecode(raw, &c, "console", consoleFields); err != nil {
			return err
		}
		if c.Run == "" {
			return errors.New("console: run: must name a console command")
		}
	case "login":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !slices.Contains(loginValues, s) {
			return fmt.Errorf("login: %s: want one of %s", raw, strings.Join(loginValues, ", "))
		}
	default:
		if !slices.Contains(simActions, name) {
			return fmt.Errorf("action %q: want one of %s", name, strings.Join(allActions, ", "))
		}
	}
	return nil
}

// kiosk is what a scenario runs against: a logged-in console, and how to
// log in again.
type kiosk struct {
	c    *client
	user string
	key  ed25519.PrivateKey
}

// play runs s; the error names the step that failed, what was expected
// and what came.
func (k kiosk) play(ctx context.Context, s scenario) error {
	// Every stimulus is checked before the first is applied.
	for i, st := range s.Steps {
		name, _ := action(st)
		if !slices.Contains(simActions, name) {
			continue
		}
		if err := k.sim(st, true); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	for i, st := range s.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := k.step(ctx, st); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

func (k kiosk) sim(st map[string]json.RawMessage, check bool) error {
	var b bytes.Buffer
	doc, _ := json.Marshal(st)
	if err := json.Compact(&b, doc); err != nil {
		return err
	}
	cmd := "sim "
	if check {
		cmd += "check "
	}
	a, err := k.c.do(cmd + b.String())
	if err != nil {
		return err
	}
	if a.err != "" {
		return errors.New(a.err)
	}
	return nil
}

func (k kiosk) step(ctx context.Context, st map[string]json.RawMessage) error {
	name, raw := action(st)
	switch name {
	case "expect":
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return err
		}
		a, err := k.c.do("expect " + b.String() + " --json")
		if err != nil {
			return err
		}
		if a.err != "" {
			return errors.New(a.err)
		}
		var m console.Met
		if err := json.Unmarshal(a.raw, &m); err != nil {
			return fmt.Errorf("expect: answer: %w", err)
		}
		if !m.OK {
			return errors.New(m.Why)
		}
	case "wait":
		var s string
		_ = json.Unmarshal(raw, &s)
		d, _ := time.ParseDuration(s)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	case "console":
		var c consoleStep
		_ = json.Unmarshal(raw, &c)
		a, err := k.c.do(c.Run + " --json")
		if err != nil {
			return err
		}
		switch {
		case c.Error != "" && !strings.Contains(a.err, c.Error):
			return fmt.Errorf("console %q: expected an error with %q, got %s", c.Run, c.Error, bytes.TrimSpace(a.raw))
		case c.Error == "" && a.err != "":
			return fmt.Errorf("console %q: expected success, got %s", c.Run, bytes.TrimSpace(a.raw))
		case c.Want != "" && !strings.Contains(string(a.raw), c.Want):
			return fmt.Errorf("console %q: expected %q, got %s", c.Run, c.Want, bytes.TrimSpace(a.raw))
		}
	case "login":
		var which string
		_ = json.Unmarshal(raw, &which)
		key := k.key
		if which == "wrong_key" {
			_, key, _ = ed25519.GenerateKey(nil)
		}
		err := k.c.login(k.user, key)
		switch {
		case which == "wrong_key" && err == nil:
			return errors.New("login with a wrong key: expected a refusal, got a session")
		case which == "wrong_key" && !strings.Contains(err.Error(), "login refused"):
			return fmt.Errorf("login with a wrong key: expected \"login refused\", got %q", err)
		case which == "right_key" && err != nil:
			return fmt.Errorf("login with the right key: expected a session, got %q", err)
		}
	default:
		return k.sim(st, false)
	}
	return nil
}

// result is one scenario's outcome.
type result struct {
	s    scenario
	err  error
	took time.Duration
	log  string // what palmd said on standard error, when the runner started it
}

func hilRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("palmctl hil run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.register(fs)
	junit := fs.String("junit", "", "write a JUnit XML report to `file`")
	palmd := fs.String("palmd", "", "start this palmd `binary` (the simulation build) for each scenario")
	start := fs.Duration("start-timeout", 60*time.Second, "how long a started palmd may take to serve its console")
	parallel := fs.Int("parallel", 1, "with -palmd, how many scenarios run at once, each on its own palmd")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("hil run: no scenario files")}
	}
	switch {
	case *parallel < 1:
		return usageError{fmt.Errorf("hil run: -parallel %d: want at least 1", *parallel)}
	case *parallel > 1 && *palmd == "":
		return usageError{fmt.Errorf("hil run: -parallel %d needs -palmd: a connected kiosk runs one scenario at a time", *parallel)}
	}
	var scenarios []scenario
	for _, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			return usageError{fmt.Errorf("hil run: %w", err)}
		}
		s, err := parseScenario(f, b)
		if err != nil {
			return usageError{fmt.Errorf("hil run: %w", err)}
		}
		scenarios = append(scenarios, s)
	}
	run := func(s scenario) result {
		began := time.Now()
		var r result
		if *palmd != "" {
			r = runStarted(ctx, *palmd, *start, s)
		} else {
			r = result{s: s, err: runConnected(ctx, c, s)}
		}
		r.took = time.Since(began)
		return r
	}
	// Up to -parallel scenarios run at once; each is reported, in the
	// order given, once it and those before it are over.
	done := make([]chan result, len(scenarios))
	for i := range done {
		done[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, *parallel)
	go func() {
		for i, s := range scenarios {
			slots <- struct{}{}
			go func() {
				defer func() { <-slots }()
				if ctx.Err() != nil {
					done[i] <- result{s: s, err: ctx.Err()}
					return
				}
				done[i] <- run(s)
			}()
		}
	}()
	var results []result
	failed := 0
	for i, s := range scenarios {
		r := <-done[i]
		verdict := "PASS"
		if r.err != nil {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s  %s (%s, %.1fs)\n", verdict, s.Name, s.file, r.took.Seconds())
		if r.err != nil {
			fmt.Fprintf(stdout, "      %s\n", strings.ReplaceAll(r.err.Error(), "\n", "\n      "))
		}
		results = append(results, r)
		if ctx.Err() != nil {
			// Stopped: the scenarios still running stop their palmd;
			// wait for them, report none of them.
			for _, d := range done[i+1:] {
				<-d
			}
			break
		}
	}
	if *junit != "" {
		if err := writeJUnit(*junit, results); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d scenarios, %d failed\n", len(results), failed)
	if failed > 0 {
		return fmt.Errorf("hil run: %d of %d scenarios failed", failed, len(results))
	}
	return nil
}

func runConnected(ctx context.Context, c conn, s scenario) error {
	key, err := loadKey(c.key)
	if err != nil {
		return err
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close()
	return kiosk{c: cl, user: c.user, key: key}.play(ctx, s)
}

// runStarted starts palmd's simulation build with a console on a fresh
// socket and a fresh key, plays s, and stops palmd.
func runStarted(ctx context.Context, bin string, timeout time.Duration, s scenario) (r result) {
	r.s = s
	dir, err := os.MkdirTemp("", "palmctl-hil-")
	if err != nil {
		r.err = err
		return r
	}
	defer os.RemoveAll(dir)
	tech, key, err := writeKey(filepath.Join(dir, "hil.key"), "hil", console.RoleTechnician)
	if err != nil {
		r.err = err
		return r
	}
	cfg := filepath.Join(dir, "config.json")
	if err := writeSimConfig(cfg, tech); err != nil {
		r.err = err
		return r
	}
	sock := filepath.Join(dir, "console.sock")
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-config", cfg, "-hw=sim", "-json", "-log-level=warn", "-console-socket", sock)
	cmd.Stderr = &lockedBuffer{b: &logs}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		r.err = fmt.Errorf("starting %s: %w", bin, err)
		return r
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	alive := func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("palmd exited before serving its console: %v", err)
		default:
			return nil
		}
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		if r.err != nil {
			r.log = logs.String()
		}
	}()
	cl, err := waitDial(sock, timeout, alive)
	if err != nil {
		r.err = err
		return r
	}
	defer cl.Close()
	if err := cl.login("hil", key); err != nil {
		r.err = fmt.Errorf("login: %w", err)
		return r
	}
	r.err = kiosk{c: cl, user: "hil", key: key}.play(ctx, s)
	return r
}

// lockedBuffer is written by exec's copying goroutine and read once palmd
// has exited.
type lockedBuffer struct{ b *bytes.Buffer }

func (l *lockedBuffer) Write(p []byte) (int, error) {
	if l.b.Len() > 1<<20 {
		return len(p), nil // enough to say what went wrong
	}
	return l.b.Write(p)
}

// The JUnit XML report: one test suite, one test case per scenario.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemErr string        `xml:"system-err,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func writeJUnit(path string, results []result) error {
	suite := junitSuite{Name: "hil", Tests: len(results), Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05")}
	var total time.Duration
	for _, r := range results {
		tc := junitCase{Name: r.s.Name, Classname: "hil", Time: seconds(r.took)}
		if r.err != nil {
			suite.Failures++
			first, _, _ := strings.Cut(r.err.Error(), "\n")
			tc.Failure = &junitFailure{Message: first, Type: "ScenarioFailed", Text: r.s.file + ": " + r.err.Error()}
			tc.SystemErr = r.log
		}
		total += r.took
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Time = seconds(total)
	doc := junitSuites{Name: "palmctl hil run", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}
