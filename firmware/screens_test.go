package firmware

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/quality"
)

var update = flag.Bool("update", false, "rewrite the golden screens under testdata/screens/ from what Render draws")

// panels are the sizes every screen is drawn at: the 7" panel and the
// kiosk's native 10.1" one.
var panels = []image.Point{{800, 480}, {1280, 800}}

// everyScreen is one of each screen the kiosk can show, in tx's language,
// with sample figures where a screen has them.
func everyScreen(t *testing.T, tx *texts) []display.Screen {
	t.Helper()
	pan, err := cardreader.ParsePAN([]byte("4539578763621486"))
	if err != nil {
		t.Fatal(err)
	}
	ph := newPhone()
	for _, d := range "55501" {
		ph.add(byte(d))
	}
	s := []display.Screen{tx.reinsertCard(), tx.cardUnreadable(), tx.askPalm(wire.FlowEnrol),
		tx.askPalm(wire.FlowDelete), tx.confirmDelete(), tx.kept(), tx.phone(pan, ph, false), tx.phone(pan, ph, true),
		tx.checking()}
	for _, m := range []Mode{ModeServing, ModeNotProvisioned, ModeUpdating, ModeMaintenance, ModeOutOfService} {
		s = append(s, tx.modeScreen(m))
	}
	// Figures as the gate reports them: too far and off to the left.
	v := quality.Verdict{Scores: quality.Scores{OffsetX: -0.4, OffsetY: 0.15, DistanceMM: 300}}
	for _, r := range quality.Reasons() {
		v.Reason = r
		s = append(s, tx.guidance(v, 6500*time.Millisecond))
	}
	for _, f := range flows {
		for _, o := range []wire.Outcome{wire.Approved, wire.NotRecognized, wire.SpoofRejected, wire.Declined, wire.Retry} {
			s = append(s, tx.result(f.name, o))
		}
	}
	// The second factor, the attempt limit and what the point of sale asks.
	app, _ := tx.reasonResult("app_enrolment_completed")
	s = append(s, tx.choosePalms(true), tx.rightPalm(), tx.palmAgain(2, 3))
	s = append(s, tx.deleteFactor(ph), tx.lockedOut(95*time.Second), app, tx.loyalty(), tx.ageCheck(18),
		tx.pay(pos.Request{Amount: 1250, Currency: "EUR", Merchant: "Corner Café"}))
	// One of each name: the same name is the same screen (checked by
	// TestScreenNamesAreUnique).
	seen := map[string]bool{}
	return slices.DeleteFunc(s, func(sc display.Screen) bool {
		dup := seen[sc.Name]
		seen[sc.Name] = true
		return dup
	})
}

func english(t *testing.T) *texts {
	t.Helper()
	tx, err := newTexts("")
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// Each name is one screen: two screens with one name would look the same
// to tests, scenarios and telemetry.
func TestScreenNamesAreUnique(t *testing.T) {
	tx := english(t)
	byName := map[string]display.Screen{}
	var all []display.Screen
	for _, m := range []Mode{ModeServing, ModeNotProvisioned, ModeUpdating, ModeMaintenance, ModeOutOfService} {
		all = append(all, tx.modeScreen(m))
	}
	for _, f := range flows {
		all = append(all, tx.askPalm(f.name))
		for _, o := range []wire.Outcome{wire.Approved, wire.NotRecognized, wire.SpoofRejected, wire.Declined, wire.Retry} {
			all = append(all, tx.result(f.name, o))
		}
	}
	for _, r := range quality.Reasons() {
		all = append(all, tx.guidance(quality.Verdict{Reason: r}, time.Second))
	}
	for _, sc := range all {
		if prev, ok := byName[sc.Name]; ok && (prev.Title != sc.Title || prev.Body != sc.Body || prev.Tone != sc.Tone || prev.Icon != sc.Icon) {
			t.Errorf("screen name %q is used for %q and for %q", sc.Name, prev.Title, sc.Title)
		}
		byName[sc.Name] = sc
	}
	want := []string{"age_check", "age_not_ok", "age_ok", "app_enrolled", "approved", "card_unreadable", "checking",
		"confirm_delete", "declined", "delete_factor", "delete_hover", "deleted", "enrolled", "enter_phone", "face_scanner",
		"hold_flat", "hold_still", "hover", "hover_left", "hover_right", "idle", "kept", "locked_out", "loyalty", "loyalty_found", "maintenance", "move_centre",
		"move_higher", "move_lower", "no_data", "not_provisioned", "not_recognized", "out_of_service", "paid", "palm_again", "pay",
		"pay_declined", "phone_too_short", "reinsert_card", "retry", "scanning", "shade", "show_palm", "spoof_rejected",
		"updating"}
	var got []string
	for _, sc := range everyScreen(t, tx) {
		got = append(got, sc.Name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("screens %q,\nwant %q", got, want)
	}
}

// Every screen's words come from the catalogue, in every language; every
// message is used; every screen fits both panels in every language.
func TestCatalogueCoversEveryScreen(t *testing.T) {
	used := map[string]bool{"time_left": true}
	for _, lang := range Languages() {
		tx, err := newTexts(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range everyScreen(t, tx) {
			for _, part := range []string{"title", "body"} {
				key := sc.Name + "." + part
				used[key] = true
				tr, ok := messages[key]
				if !ok || len(tr) != len(languages) || slices.Contains(tr, "") {
					t.Errorf("%s: message %q missing or not in every language", lang, key)
				}
			}
			if strings.HasSuffix(sc.Title, ".title") || strings.HasSuffix(sc.Body, ".body") || strings.Contains(sc.Title+sc.Body, "%!") {
				t.Errorf("%s: screen %q shows a key or a formatting error: %q / %q", lang, sc.Name, sc.Title, sc.Body)
			}
			for _, size := range panels {
				if err := display.Fits(size, sc); err != nil {
					t.Errorf("%s: %v", lang, err)
				}
			}
		}
	}
	for key := range messages {
		if !used[key] {
			t.Errorf("message %q is on no screen", key)
		}
	}
}

func TestLanguageFromConfig(t *testing.T) {
	tests := []struct {
		lang, title, err string
	}{
		{"", "Welcome", ""},
		{"en", "Welcome", ""},
		{"de", "Willkommen", ""},
		{"fr", "", `firmware: language "fr": want one of en, de`},
	}
	for _, tt := range tests {
		tx, err := newTexts(tt.lang)
		if fmt.Sprint(err) != map[bool]string{true: "<nil>", false: tt.err}[tt.err == ""] {
			t.Errorf("newTexts(%q) error %v, want %q", tt.lang, err, tt.err)
			continue
		}
		if err == nil {
			if got := tx.result(wire.FlowIdentify, wire.Approved).Title; got != tt.title {
				t.Errorf("newTexts(%q): approved reads %q, want %q", tt.lang, got, tt.title)
			}
		}
	}
}

// The guidance screens carry the gate's figures, never pixels: position
// and distance against the accepted band, and the time left.
func TestGuidanceCarriesTheGatesFigures(t *testing.T) {
	tx := english(t)
	tests := []struct {
		reason   quality.Reason
		name     string
		hand     bool
		footer   string
		tone     display.Tone
		progress float64
	}{
		{quality.OK, "scanning", true, "3 s left", display.Info, progressScanning},
		{quality.TooFar, "move_lower", true, "3 s left", display.Warning, progressScanning},
		{quality.TooDark, "face_scanner", true, "3 s left", display.Warning, progressScanning},
		{quality.NoPalm, "show_palm", false, "3 s left", display.Warning, progressScanning},
	}
	for _, tt := range tests {
		v := quality.Verdict{Reason: tt.reason, Scores: quality.Scores{OffsetX: 0.3, OffsetY: -0.2, DistanceMM: 280}}
		s := tx.guidance(v, 2100*time.Millisecond)
		if s.Name != tt.name || s.Footer != tt.footer || s.Tone != tt.tone || s.Progress != tt.progress || s.Icon != display.HandIcon {
			t.Errorf("%s: screen %+v", tt.reason, s)
		}
		if (s.Hand != nil) != tt.hand {
			t.Fatalf("%s: hand %+v, want drawn %v", tt.reason, s.Hand, tt.hand)
		}
		if tt.hand && *s.Hand != (display.Hand{X: 0.3, Y: -0.2, DistanceMM: 280, NearMM: quality.NearMM, FarMM: quality.FarMM}) {
			t.Errorf("%s: hand %+v", tt.reason, *s.Hand)
		}
	}
}

// TestGoldenScreens draws every screen at both panel sizes and compares it
// with its committed PNG; go test -run TestGoldenScreens -update rewrites
// them (a changed screen is a reviewed change to its golden file).
func TestGoldenScreens(t *testing.T) {
	if raceEnabled && !*update {
		t.Skip("draws and compares every screen on one goroutine (40 s under the race detector): in the full pass without -race")
	}
	tx := english(t)
	dir := filepath.Join("testdata", "screens")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range everyScreen(t, tx) {
		for _, size := range panels {
			name := fmt.Sprintf("%s_%dx%d.png", sc.Name, size.X, size.Y)
			img := image.NewRGBA(image.Rectangle{Max: size})
			display.Render(img, sc)
			path := filepath.Join(dir, name)
			if *update {
				var b bytes.Buffer
				if err := png.Encode(&b, img); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			fh, err := os.Open(path)
			if err != nil {
				t.Errorf("%s: %v (run go test -run TestGoldenScreens -update and review the PNG)", sc.Name, err)
				continue
			}
			want, err := png.Decode(fh)
			fh.Close()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if n := differs(img, want); n > 0 {
				out := filepath.Join(t.TempDir(), name)
				var b bytes.Buffer
				png.Encode(&b, img)
				os.WriteFile(out, b.Bytes(), 0o644)
				t.Errorf("%s: %d pixels differ from %s (drawn: %s)", name, n, path, out)
			}
		}
	}
}

// differs counts the pixels of got that differ from want by more than
// rounding (2 levels a channel: anti-aliasing may round differently on
// another CPU); a different size differs everywhere.
func differs(got *image.RGBA, want image.Image) int {
	if got.Bounds() != want.Bounds() {
		return got.Bounds().Dx() * got.Bounds().Dy()
	}
	n := 0
	for y := got.Rect.Min.Y; y < got.Rect.Max.Y; y++ {
		for x := got.Rect.Min.X; x < got.Rect.Max.X; x++ {
			r0, g0, b0, _ := got.At(x, y).RGBA()
			r1, g1, b1, _ := want.At(x, y).RGBA()
			if far(r0, r1) || far(g0, g1) || far(b0, b1) {
				n++
			}
		}
	}
	return n
}

func far(a, b uint32) bool { return max(a, b)-min(a, b) > 2*0x101 }
