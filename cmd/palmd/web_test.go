//go:build sim

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/uplink/wire"
)

var screenshots = flag.Bool("screenshots", false, "rewrite the page's screenshots in web/ (shown in the README)")

func TestWebAddressIsLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"localhost:0", true},
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"192.168.1.10:8080", false},
		{"example.com:80", false},
		{"127.0.0.1", false},
		{"127.0.0.1:http", false},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

// chromium finds Debian's chromium (or another Chrome), or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: apt-get install chromium (.ci/run installs it) to run the kiosk page in a browser")
	return ""
}

// TestKioskPageInChromium is `make run` in a headless browser: palmd plays
// the demo (Alice enrols) with the page on, and stays up; the page's
// controls present Alice again, the mirror shows the approved screen, and
// the session's timings and outcome are in the page. The screenshot is
// saved under the test's artifact directory (go test -artifacts).
func TestKioskPageInChromium(t *testing.T) {
	browser := chromium(t)
	if testing.Short() {
		t.Skip("the browser run takes seconds: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc, err := sim.LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	world := sim.NewWorld()
	simu := &simulation{world: world, play: &sc, web: newWebHub(world), webAddr: "127.0.0.1:0"}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, config.Default(), log, output{w: &bytes.Buffer{}}, consoleFlags{}, simu, seams{})
	}()
	var url string
	select {
	case url = <-simu.web.url:
	case err := <-done:
		t.Fatalf("palmd ended before its page listened: %v\n%s", err, logs.String())
	}
	// Production palmd serves no page; the page refuses a foreign Host.
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Host = "attacker.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a request for another host: %v %v, want 403", resp.Status, err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.WindowSize(1400, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// The demo plays first (Alice enrols, is recognised, a stranger is
	// not); the page is used once it is over.
	demoDone := func() bool {
		names := screenNames(world)
		i := slices.Index(names, "not_recognized")
		return i >= 0 && len(names) > i+1 && world.Screen().Name == "idle"
	}
	for !demoDone() {
		select {
		case err := <-done:
			t.Fatalf("palmd ended: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	fail := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\npalmd log:\n%s", step, err, logs.String())
		}
	}
	shot := func(a chromedp.Action[[]byte]) []byte {
		t.Helper()
		b, err := chromedp.Run(bctx, a)
		fail("screenshot", err)
		return b
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		fail("reading "+sel, err)
		return s
	}
	fail("a hand held too far", chromedp.Do(bctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(`#screen[data-shown="idle"]`),
		// It ignores the guidance: the screen keeps guiding.
		chromedp.SetValue(`#person`, "dave"),
		chromedp.SetValue(`#condition`, "too_far"),
		chromedp.Click(`#ignores`),
		chromedp.Click(`#hover`),
		chromedp.WaitVisible(`#screen[data-shown="move_lower"]`),
		chromedp.Sleep(300*time.Millisecond), // a few live redraws
	))
	guide := shot(chromedp.FullScreenshot(100)) // PNG
	distance := text(`#f-distance`)
	fail("Alice, known since the demo", chromedp.Do(bctx,
		chromedp.Click(`#withdraw`),
		chromedp.WaitVisible(`#screen[data-shown="idle"]`),
		chromedp.SetValue(`#person`, "alice"),
		chromedp.SetValue(`#condition`, "good"),
		chromedp.Click(`#ignores`),
		chromedp.Click(`#hover`),
		chromedp.WaitVisible(`#screen[data-shown="approved"]`),
	))
	page := shot(chromedp.FullScreenshot(100)) // PNG
	outcome := text(`#sessions tbody tr:first-child td:nth-child(5)`)
	sealed := text(`#sessions tbody tr:first-child td:nth-child(3)`)
	fail("withdrawing", chromedp.Do(bctx, chromedp.Click(`#withdraw`), chromedp.WaitVisible(`#screen[data-shown="idle"]`)))
	if !strings.HasSuffix(distance, " cm") {
		t.Errorf("quality figures: distance %q while guided, want centimetres", distance)
	}
	if outcome != "approved" || !strings.HasSuffix(sealed, " s") {
		t.Errorf("sessions table: outcome %q, sealed after %q; want approved and a time", outcome, sealed)
	}
	// The mirror shows the approved screen: its green fills the tick.
	img, err := png.Decode(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if n := countNear(img, display.ToneColour(display.Success)); n < 5000 {
		t.Errorf("the mirrored screen has %d pixels of the approved green, want the tick", n)
	}
	dir := t.ArtifactDir()
	for name, b := range map[string][]byte{"page-approved.png": page, "page-guidance.png": guide} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	if *screenshots {
		for name, b := range map[string][]byte{"page-approved.png": page, "page-guidance.png": guide} {
			if err := os.WriteFile(filepath.Join("web", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("palmd: %v", err)
	}
}

// countNear counts pixels within a few levels of c.
func countNear(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) int {
	cr, cg, cb, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, cr) && near(g, cg) && near(bl, cb) {
				n++
			}
		}
	}
	return n
}

func near(a, b uint32) bool { return max(a, b)-min(a, b) <= 8*0x101 }

// The page's API without a browser: the picture, the stream's first
// messages, and steps checked like a scenario's.
func TestKioskPageAPI(t *testing.T) {
	world := sim.NewWorld()
	hub := newWebHub(world)
	mirror{Display: world.Display(), hub: hub}.Show(display.Screen{Name: "approved", Title: "Welcome", Tone: display.Success, Icon: display.TickIcon})
	hub.event(bus.Event{Event: bus.Decision, Outcome: "approved"})
	srv := httptest.NewServer(hub.handler())
	defer srv.Close()

	tests := []struct {
		method, path, body string
		status             int
		want               string // in the body
	}{
		{"GET", "/", "", 200, `<img id="screen"`},
		{"GET", "/api/options", "", 200, `"vein_replica"`},
		{"POST", "/api/step", `{"type":"12[enter]"}`, 204, ""},
		{"POST", "/api/step", `{"type":"12[frobnicate]"}`, 400, "unknown key"},
		{"POST", "/api/step", `{"expect":{"event":"decision"}}`, 400, "without expect"},
		{"POST", "/api/step", `{"hover":{"person":"x","presentation":"mask"}}`, 400, "presentation"},
		{"POST", "/api/network", "cut=maybe", 400, "want true or false"},
		{"GET", "/nothing", "", 404, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s %s %s: %d %q, want %d with %q", tt.method, tt.path, tt.body, resp.StatusCode, b, tt.status, tt.want)
		}
	}
	// The typed keys reached the keypad.
	if k, err := world.Keypad().Next(context.Background()); err != nil || k != '1' {
		t.Errorf("keypad read %q %v, want '1'", k, err)
	}

	resp, err := http.Get(srv.URL + "/screen.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(resp.Body)
	resp.Body.Close()
	if err != nil || img.Bounds().Size() != image.Pt(800, 480) || countNear(img, display.ToneColour(display.Success)) < 1000 {
		t.Errorf("screen.png: %v, %v: want the approved screen at 800x480", img.Bounds(), err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for len(lines) < 4 && sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	if len(lines) < 4 || lines[0] != "event: screen" || !strings.Contains(lines[1], `"name":"approved"`) ||
		lines[2] != "event: kiosk" || !strings.Contains(lines[3], `"outcome":"approved"`) {
		t.Errorf("event stream starts %q, want the screen then the backlog", lines)
	}
}

// -screens saves every screen the scenario showed, in order.
func TestScreensFlagSavesEveryScreen(t *testing.T) {
	sc, err := sim.LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	world := sim.NewWorld()
	simu := &simulation{world: world, play: &sc, screens: dir}
	if err := serve(ctx, config.Default(), slog.New(slog.DiscardHandler), output{w: io.Discard}, consoleFlags{}, simu, seams{}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		_, name, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".png"), "_")
		got = append(got, name)
	}
	// Each change of screen, up to the blank of the halted display
	// (saved before it).
	var want []string
	for _, n := range screenNames(world) {
		if len(want) == 0 || want[len(want)-1] != n {
			want = append(want, n)
		}
	}
	want = slices.DeleteFunc(want, func(n string) bool { return n == "blank" })
	if !slices.Equal(got, want) {
		t.Errorf("saved %q,\nwant every screen in order %q", got, want)
	}
	for _, must := range []string{"scanning", "checking", "enrolled", "approved", "not_recognized"} {
		if !slices.Contains(got, must) {
			t.Errorf("no %s among the saved screens %q", must, got)
		}
	}
}

// The page's network switch: cut, the kiosk is out of service and asks the
// cloud nothing; restored, it serves again.
func TestKioskPageCutsTheNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	world := sim.NewWorld()
	// No scenario: the kiosk runs until ctx ends, as `make run` does.
	simu := &simulation{world: world, web: newWebHub(world), webAddr: "127.0.0.1:0"}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, config.Default(), slog.New(slog.DiscardHandler), output{w: io.Discard}, consoleFlags{}, simu, seams{})
	}()
	url := <-simu.web.url
	screen := func(want string) {
		t.Helper()
		for world.Screen().Name != want {
			select {
			case <-ctx.Done():
				t.Fatalf("screen %q, want %q", world.Screen().Name, want)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	cut := func(v string) {
		t.Helper()
		resp, err := http.Post(url+"api/network", "application/x-www-form-urlencoded", strings.NewReader("cut="+v))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("cut=%s: %v %v", v, resp, err)
		}
		resp.Body.Close()
	}
	screen("idle")
	cut("true")
	screen("out_of_service")
	if _, err := simu.cloud(nil).Do(ctx, wire.Request{}); !errors.Is(err, errNetworkCut) {
		t.Errorf("a request with the network cut: %v, want %v", err, errNetworkCut)
	}
	cut("false")
	screen("idle")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("palmd: %v", err)
	}
}

// FuzzKioskPageStep feeds the page's control endpoint arbitrary bodies: it
// answers 204 or 400, never fails otherwise or panics. Seeds are in
// testdata/fuzz/FuzzKioskPageStep.
func FuzzKioskPageStep(f *testing.F) {
	f.Add([]byte(`{"hover":{"person":"alice","presentation":"printed_photo","condition":"too_far"}}`))
	world := sim.NewWorld()
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	// The kiosk would read the card reader and the keypad: drain them.
	go func() {
		for ctx.Err() == nil {
			world.Keypad().Next(ctx)
		}
	}()
	go func() {
		for ctx.Err() == nil {
			world.Cards().Next(ctx)
		}
	}()
	h := newWebHub(world).handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8080/api/step", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent && rec.Code != http.StatusBadRequest {
			t.Errorf("step %q: status %d %q", body, rec.Code, rec.Body)
		}
	})
}

// FuzzLoopbackHost feeds checkLoopback arbitrary Host headers and -web
// addresses: whatever it accepts is a loopback host with a port.
func FuzzLoopbackHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8080", "[::1]:0", "localhost:80", "10.0.0.1:80", "127.0.0.1", "[::ffff:127.0.0.1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if checkLoopback(addr) != nil {
			return
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("accepted %q: %v", addr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			t.Errorf("accepted %q: host %q is not loopback", addr, host)
		}
	})
}
