package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		args    []string
		help    bool
		wantOut string
		wantErr string
	}{
		{[]string{"-h"}, true, "palmload [-kiosks N]", ""},
		{[]string{"-h"}, true, "palmload -url URL[,URL...] -issuer DIR -kiosk-keys FILE", ""},
		{[]string{"-version"}, false, "palmload dev", ""},
		{[]string{"-kiosks", "0"}, false, "", "-kiosks 0: want at least 1"},
		{[]string{"-people", "20", "-enrolled", "10"}, false, "", "-people 20: want 1 to -enrolled (10)"},
		{[]string{"-kill-node", "-nodes", "1"}, false, "", "-kill-node needs -nodes 3"},
		{[]string{"extra"}, false, "", `unexpected argument "extra"`},
		{[]string{"-workers", "0"}, false, "", "-workers 0: want at least 1 of each"},
		{[]string{"-url", "tls://127.0.0.1:4222", "-issuer", "x", "-kiosk-keys", "y", "-kill-node"}, false, "", "-url with -kill-node: palmload starts no servers"},
		{[]string{"-url", "tls://127.0.0.1:4222", "-issuer", "x", "-kiosk-keys", "y", "-nodes", "3", "-workers", "4"}, false, "", "-url with -nodes, -workers:"},
		{[]string{"-url", "tls://127.0.0.1:4222"}, false, "", "-url needs -issuer DIR (the region's issuer files) and -kiosk-keys FILE"},
		{[]string{"-issuer", "x"}, false, "", "-issuer and -kiosk-keys go with -url"},
		{[]string{"-serve", "x", "-kill-node"}, false, "", "-serve with -url or -kill-node"},
		{[]string{"-url", "tls://127.0.0.1:4222", "-issuer", "/nonexistent", "-kiosk-keys", "y"}, false, "", "-issuer: dev: issuer: open /nonexistent/account.nk: no such file"},
		{[]string{"-h"}, true, "palmload -bundle MIB", ""},
		{[]string{"-bundle", "-1"}, false, "", "-bundle -1: want 1 to 1024 MiB"},
		{[]string{"-url", "tls://127.0.0.1:4222", "-issuer", "x", "-kiosk-keys", "y", "-bundle", "4"}, false, "", "-bundle with -url or -serve"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, &stderr)
		switch {
		case tt.help && !errors.Is(err, flag.ErrHelp):
			t.Errorf("run(%q) = %v, want flag.ErrHelp (exit 0)", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("run(%q) = %v, want %q", tt.args, err, tt.wantErr)
		case !tt.help && tt.wantErr == "" && err != nil:
			t.Errorf("run(%q) = %v", tt.args, err)
		}
		if !strings.Contains(stdout.String(), tt.wantOut) {
			t.Errorf("run(%q) printed %q, want %q", tt.args, stdout.String(), tt.wantOut)
		}
	}
}

// TestSmallRun runs a small region with a server killed and checks the
// JSON line's figures: every request answered, by a decision or by the
// cloud shedding it ("busy", which a loaded machine can cause: how many is
// a matter of timing, so it is logged, not judged), and nothing else.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-server cluster and 20 kiosks")
	}
	rep := runReport(t, "-kiosks", "20", "-interval", "500ms", "-duration", "4s", "-enrolled", "300", "-people", "10", "-kill-node")
	if rep.Kiosks != 20 || rep.Enrolled != 300 || !rep.NodeKilled || rep.Requests != 160 {
		t.Errorf("report %+v, want 20 kiosks, 300 enrolled, a node killed, 160 requests", rep)
	}
	busy := rep.ErrorKinds[errBusy]
	if rep.Answered+busy != rep.Requests || rep.Errors != busy || rep.Answered == 0 {
		t.Errorf("answered %d of %d, shed %d, errors %d %v %q", rep.Answered, rep.Requests, busy, rep.Errors, rep.ErrorKinds, rep.FirstErrors)
	}
	t.Logf("%d of %d answered, %d shed busy", rep.Answered, rep.Requests, busy)
	if rep.P99 <= 0 || rep.P50 > rep.P99 {
		t.Errorf("percentiles p50 %v p99 %v", rep.P50, rep.P99)
	}
}

// TestSmallRollout runs a rollout of a 1 MiB bundle to 10 kiosks for 4 s,
// a server killed at 2 s and restarted at 3 s: every kiosk completes its
// download, checked against the signed size and SHA-256.
func TestSmallRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-server cluster and 10 kiosks")
	}
	rep := runReport(t, "-kiosks", "10", "-bundle", "1", "-duration", "4s", "-kill-node")
	if rep.Kiosks != 10 || rep.BundleMiB != 1 || !rep.NodeKilled || rep.Requests != 10 {
		t.Errorf("report %+v, want 10 kiosks, a 1 MiB bundle, a node killed, 10 downloads", rep)
	}
	if rep.Answered != 10 || rep.Errors != 0 {
		t.Errorf("%d of 10 downloads completed, errors %d %v %q", rep.Answered, rep.Errors, rep.ErrorKinds, rep.FirstErrors)
	}
	if rep.MiBPerS <= 0 || rep.P50 > rep.Max {
		t.Errorf("%v MiB/s, p50 %v max %v", rep.MiBPerS, rep.P50, rep.Max)
	}
}

// runReport runs palmload with args and -json and returns the report on
// its last line, which must hold no field the report does not know.
func runReport(t *testing.T, args ...string) report {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append(args, "-json"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var rep report
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	return rep
}

// TestRunAgainstURL starts a region with palmload -serve (three servers,
// one cloud instance), which writes its issuer files and the cloud's
// kiosk keys as an operator holds them, and runs the palmload -url
// command it prints twice with the same seed: the first run enrols its
// people with enrol requests, the second finds them enrolled already (the
// cloud holds them); both have every identification answered with the
// person's subject.
func TestRunAgainstURL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-server cluster, a cloud and 4 kiosks twice")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	served := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-serve", dir, "-clouds", "1", "-workers", "8"}, pw, io.Discard)
		pw.Close()
		served <- err
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("-serve: %v", err)
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("-serve printed %q: %v", line, err)
	}
	cmd := strings.Fields(line)
	keysFile := filepath.Join(dir, kioskKeysFile)
	if len(cmd) != 7 || cmd[0] != "palmload" || cmd[1] != "-url" || cmd[3] != "-issuer" || cmd[4] != dir || cmd[6] != keysFile {
		t.Fatalf("-serve printed %q, want palmload -url URLS -issuer %s -kiosk-keys %s", line, dir, keysFile)
	}
	if fi, err := os.Stat(keysFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, want mode 0600", keysFile, err)
	}
	url := cmd[2]
	args := append(cmd[1:], "-kiosks", "4", "-interval", "500ms", "-duration", "2s", "-enrolled", "12", "-people", "6", "-json")

	badKeys := filepath.Join(dir, "bad-keys.json")
	if err := os.WriteFile(badKeys, []byte(`{"seal_key": "AAAA"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), append(slices.Clone(args), "-kiosk-keys", badKeys), &stdout, &stderr)
	if want := "-kiosk-keys " + badKeys + ": config: uplink.seal_key: 3 bytes, want 1216"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("bad kiosk keys: %v, want %q", err, want)
	}

	for i, wantNow := range []int{12, 0} {
		stdout.Reset()
		stderr.Reset()
		if err := run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		var rep report
		dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("run %d: last line %q: %v", i+1, lines[len(lines)-1], err)
		}
		// Each kiosk sends at phases in [0, 500ms) every 500ms for 2s: 4.
		if rep.URL != url || rep.Kiosks != 4 || rep.Enrolled != 12 || rep.EnrolledNow != wantNow || rep.NodeKilled ||
			rep.Requests != 16 || rep.Answered != 16 || rep.Errors != 0 || rep.CloudAnswers != nil {
			t.Errorf("run %d: report %+v, want url %s, 4 kiosks, 12 enrolled (%d now), no node killed, 16 requests all answered", i+1, rep, url, wantNow)
		}
		if rep.P50 <= 0 || rep.P50 > rep.P95 || rep.P95 > rep.P99 {
			t.Errorf("run %d: percentiles p50 %v p95 %v p99 %v", i+1, rep.P50, rep.P95, rep.P99)
		}
	}
}

// TestReportErrorKinds: the report counts each request once, by what
// became of it, and its errors by kind.
func TestReportErrorKinds(t *testing.T) {
	r := &region{c: config{kiosks: 3, enrolled: 10, nodes: 3, clouds: 1, interval: time.Second}}
	results := []result{
		{latency: 10 * time.Millisecond, sends: 1},
		{latency: 30 * time.Millisecond, sends: 2},
		{sends: 1, err: errors.New("cloud busy"), kind: errBusy},
		{sends: 1, err: errors.New("cloud busy"), kind: errBusy},
		{sends: 6, err: errors.New("unanswered after 30s"), kind: errUnanswered},
		{sends: 1, err: errors.New("wrong answer: not_recognized"), kind: errWrong},
	}
	rep := r.report(results, 2*time.Second, "")
	want := map[string]int{errBusy: 2, errUnanswered: 1, errWrong: 1}
	if rep.Requests != 6 || rep.Answered != 2 || rep.Errors != 4 || rep.Resent != 6 || !maps.Equal(rep.ErrorKinds, want) {
		t.Errorf("report %+v, want 6 requests, 2 answered, 4 errors %v, 6 sent again", rep, want)
	}
	var out bytes.Buffer
	rep.text(&out)
	if !strings.Contains(out.String(), "errors 4 (busy 2, wrong answer 1, unanswered 1, other 0)") {
		t.Errorf("text %q does not give the errors by kind", out.String())
	}
}
