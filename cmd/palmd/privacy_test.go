//go:build sim

package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/synth"
)

// Privacy test: run whole palmd sessions as a subprocess with HOME, TMPDIR
// and the working directory in a fresh tree, then search everything it wrote
// there and on stdout/stderr for camera frame bytes and for the scenario's
// card and phone numbers.

// window is how many consecutive frame bytes count as a leak.
const window = 32

// maxPairs bounds the strobe-pair index rendered per capture: the simulated
// camera numbers frames per capture (lit and unlit share an index), and a
// good capture is accepted within a few bursts of liveness.BurstPairs (6
// bursts here). palmd reports no frame counts, so this is an assumption.
const maxPairs = 6 * liveness.BurstPairs

func TestPrivacyNoFrameOrCardLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds palmd and renders every frame of the sessions")
	}
	bin := filepath.Join(t.TempDir(), "palmd")
	build := exec.Command("go", "build", "-tags", "sim", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for i, name := range []string{"demo", "delete"} {
		t.Run(name, func(t *testing.T) {
			sc, err := sim.LoadScenario(name)
			if err != nil {
				t.Fatal(err)
			}
			tree := t.TempDir()
			blobs, guidance := runSession(t, bin, tree, name)
			secrets := scenarioSecrets(sc)
			var planted string
			if i == 0 {
				// Self-check, once: a frame window, a whole card number
				// and a masked one planted in the tree must be found.
				planted = filepath.Join(tree, "wd", "planted.log")
				plant(t, planted, sc, secrets)
				blobs = append(blobs, readTree(t, planted)...)
			}
			leaks := search(t, blobs, captures(sc, guidance), sc, secrets)
			saw := map[string]bool{}
			for _, l := range leaks {
				if l.where != planted {
					t.Errorf("leak: %s", l)
					continue
				}
				if l.frame {
					saw[aFrame] = true
				} else {
					saw[l.what] = true
				}
			}
			if planted != "" && (!saw[aFrame] || !saw[wholeNumber] || !saw[firstDigits]) {
				t.Fatalf("self-check: the search found only %v in the planted file; want a frame window, a whole number and its first digits", saw)
			}
		})
	}
}

// blob is one searched byte stream: a file or an output stream.
type blob struct {
	where string
	data  []byte
}

// runSession runs palmd on the scenario in tree (home, tmp, wd) and returns
// its stdout, stderr and every file it left in the tree, and how many
// guidance events it emitted.
func runSession(t *testing.T, bin, tree, scenario string) ([]blob, int) {
	t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, d := range []string{"home", "tmp", "wd"} {
		if err := os.Mkdir(filepath.Join(tree, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env = append(env, "HOME="+filepath.Join(tree, "home"), "TMPDIR="+filepath.Join(tree, "tmp"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--hw=sim", "--scenario="+scenario, "--snapshot=final.png", "--log-level=debug")
	cmd.Dir, cmd.Env = filepath.Join(tree, "wd"), env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("palmd --scenario=%s: %v\nstderr:\n%s", scenario, err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(tree, "wd", "final.png")); err != nil {
		t.Fatalf("palmd wrote no snapshot: %v", err)
	}
	guidance := 0
	for _, ev := range decodeEvents(t, stdout.Bytes()) {
		if ev.Event == bus.Guidance {
			guidance++
		}
	}
	return append(readTree(t, tree), blob{"stdout", stdout.Bytes()}, blob{"stderr", stderr.Bytes()}), guidance
}

func readTree(t *testing.T, root string) []blob {
	t.Helper()
	var bs []blob
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		bs = append(bs, blob{path, b})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// secret is a card or phone number of a scenario, or its first digits.
type secret struct {
	digits string
	whole  bool
}

// scenarioSecrets returns the card numbers inserted and the phone numbers
// typed in sc, each whole and without its last four digits (the part that
// masked receipts and logs show), whole numbers first.
func scenarioSecrets(sc sim.Scenario) []secret {
	keys := regexp.MustCompile(`\[[a-z]+\]`)
	var whole, first []secret
	for _, st := range sc.Steps {
		for _, n := range []string{st.InsertCard, keys.ReplaceAllString(st.Type, "")} {
			if len(n) >= 7 {
				whole = append(whole, secret{n, true})
				first = append(first, secret{n[:len(n)-4], false})
			}
		}
	}
	return append(whole, first...)
}

// find returns the offset of s in b, or -1. Whole numbers count anywhere.
// First digits count only as a number of their own, masked or cut: not
// after a letter or digit, not before a digit. Otherwise a liveness score of
// 5/9 (0.5555555555555556) holds the first twelve digits of the test card
// 5555555555554444, and a nanosecond timestamp or a hex session ID holds the
// first six of a phone number now and then.
func (s secret) find(b []byte) int {
	if s.whole {
		return bytes.Index(b, []byte(s.digits))
	}
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(s.digits))
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(s.digits)
		if (i == 0 || !isAlnum(b[i-1])) && (end == len(b) || !isDigit(b[end])) {
			return i
		}
		off = i + 1
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' }

// What a leak is, as reported.
const (
	wholeNumber = "a card or phone number of the scenario"
	firstDigits = "the first digits of a card or phone number of the scenario"
	aFrame      = "frame bytes"
)

// capture is one hover's scene parameters. The simulator numbers captures
// in order across the session, and a person who follows guidance is
// captured once more (once per hover), so hover number i (from 1) uses
// seeds i..i+g, where g is the number of guidance events, at most i.
type capture struct {
	person string
	seed   uint64
}

func captures(sc sim.Scenario, guidance int) []capture {
	var cs []capture
	seen := map[capture]bool{}
	i := uint64(0)
	for _, st := range sc.Steps {
		if st.Hover == nil {
			continue
		}
		i++
		for seed := i; seed <= i+min(i, uint64(guidance)); seed++ {
			c := capture{st.Hover.Person, seed}
			if !seen[c] {
				seen[c] = true
				cs = append(cs, c)
			}
		}
	}
	return cs
}

func (c capture) scene(sc sim.Scenario) *synth.Scene {
	p := synth.Genuine
	for _, st := range sc.Steps {
		if st.Hover != nil && st.Hover.Person == c.person && st.Hover.Presentation != "" {
			p, _ = synth.ParsePresentation(st.Hover.Presentation)
		}
	}
	return synth.NewScene(synth.Capture{Identity: synth.IdentityOf(c.person), Seed: c.seed, Presentation: p, Condition: synth.Good})
}

// plant writes a log-like file holding 64 bytes of the first capture's
// first lit frame, the first whole number of secrets and the masked form of
// the last one.
func plant(t *testing.T, path string, sc sim.Scenario, secrets []secret) {
	t.Helper()
	frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	captures(sc, 0)[0].scene(sc).Render(frame, 0, true)
	off := frame.PixOffset(synth.Width/2, synth.Height/2)
	var b bytes.Buffer
	b.WriteString("level=INFO msg=ok\n")
	b.Write(frame.Pix[off : off+2*window])
	b.WriteString("\ncard=" + secrets[0].digits + "\n")
	b.WriteString("phone=" + secrets[len(secrets)-1].digits + "****\n")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

type leak struct {
	where  string
	offset int
	frame  bool   // a frame window; otherwise a secret
	what   string // which frame or "card/phone number" — never the bytes
}

func (l leak) String() string { return fmt.Sprintf("%s at byte %d: %s", l.where, l.offset, l.what) }

const (
	base       = 1099511628211 // rolling hash multiplier (odd)
	filterBits = 1 << 24       // bit set in front of the window index
)

// search finds every window of frame bytes and every secret in blobs.
func search(t *testing.T, blobs []blob, caps []capture, sc sim.Scenario, secrets []secret) []leak {
	t.Helper()
	var leaks []leak
	for _, b := range blobs {
		for _, s := range secrets {
			if i := s.find(b.data); i >= 0 {
				what := wholeNumber
				if !s.whole {
					what = firstDigits
				}
				leaks = append(leaks, leak{b.where, i, false, what})
			}
		}
	}
	// Index every window of the output by rolling hash (a bit set in front
	// of the map keeps the frame scan fast); then slide over each rendered
	// frame and verify hash hits byte by byte.
	type pos struct{ blob, off int }
	idx := map[uint64][]pos{}
	filter := make([]uint64, filterBits/64)
	for bi, b := range blobs {
		forEachWindow(b.data, func(off int, h uint64) {
			if distinct(b.data[off:off+window]) >= 4 {
				idx[h] = append(idx[h], pos{bi, off})
				filter[h%filterBits/64] |= 1 << (h % 64)
			}
		})
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(2)
	for _, c := range caps {
		g.Go(func() error {
			scene := c.scene(sc)
			frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
			for pair := range maxPairs {
				for _, lit := range []bool{true, false} {
					scene.Render(frame, pair, lit)
					forEachWindow(frame.Pix, func(off int, h uint64) {
						if filter[h%filterBits/64]&(1<<(h%64)) == 0 {
							return
						}
						for _, p := range idx[h] {
							if bytes.Equal(frame.Pix[off:off+window], blobs[p.blob].data[p.off:p.off+window]) {
								mu.Lock()
								leaks = append(leaks, leak{blobs[p.blob].where, p.off, true,
									fmt.Sprintf("bytes of %s's capture %d, pair %d, lit=%v", c.person, c.seed, pair, lit)})
								mu.Unlock()
							}
						}
					})
				}
			}
			return nil
		})
	}
	g.Wait()
	return dedupe(leaks)
}

// forEachWindow calls f with the offset and rolling hash of every window.
func forEachWindow(b []byte, f func(off int, h uint64)) {
	if len(b) < window {
		return
	}
	var h, top uint64 = 0, 1
	for i := 0; i < window; i++ {
		h = h*base + uint64(b[i])
		if i > 0 {
			top *= base
		}
	}
	f(0, h)
	for i := window; i < len(b); i++ {
		h = (h-uint64(b[i-window])*top)*base + uint64(b[i])
		f(i-window+1, h)
	}
}

func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n
}

// dedupe keeps one leak per place and kind (frame bytes, or each kind of
// number), so a leaked row is one report.
func dedupe(ls []leak) []leak {
	seen := map[string]bool{}
	var out []leak
	for _, l := range ls {
		k := fmt.Sprint(l.where, l.frame)
		if !l.frame {
			k += l.what
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, l)
		}
	}
	return out
}

func TestSecretFind(t *testing.T) {
	whole := secret{"5550100300", true}
	first := secret{"555010", false}
	for _, tc := range []struct {
		s    secret
		in   string
		want int
	}{
		{whole, `{"phone":"5550100300"}`, 10},
		{whole, `sub-ab5550100300cd`, 6},
		{first, `phone=555010****`, 6},
		{first, `phone=555010xxxx`, 6},
		{first, `"555010"`, 1},
		{first, `555010`, 0},
		{first, `"time":"2026-12-04T18:59:34.555010123Z"`, -1}, // a timestamp's digits
		{first, `"session":"ab555010cd"`, -1},                  // inside a hex ID
		{first, `34.555010123 then 555010`, 18},                // the second one counts
		{secret{"555555555555", false}, `"score":0.5555555555555556}`, -1},
		{secret{"555555555555", false}, `card=555555555555****`, 5},
	} {
		if got := tc.s.find([]byte(tc.in)); got != tc.want {
			t.Errorf("%+v.find(%q) = %d, want %d", tc.s, tc.in, got, tc.want)
		}
	}
}
