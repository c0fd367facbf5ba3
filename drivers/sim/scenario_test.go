package sim

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/vision/synth"
)

func TestBuiltinScenariosParse(t *testing.T) {
	names := Builtin()
	for _, want := range []string{"demo", "delete", "attacks", "quality", "pay", "pay_cancel", "entry", "loyalty", "age",
		"app_enrol", "delete_second_factor", "lockout", "cloud_down", "cloud_lost"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("built-in scenarios %v lack %q", names, want)
		}
	}
	for _, n := range names {
		s, err := LoadScenario(n)
		if err != nil {
			t.Errorf("LoadScenario(%q): %v", n, err)
			continue
		}
		if s.Name != n {
			t.Errorf("scenario file %s.json is named %q", n, s.Name)
		}
	}
}

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"name":"x","steps":[{"withdraw":true,"remove_card":true}]}`, "exactly one action"},
		{`{"name":"x","steps":[{}]}`, "exactly one action"},
		{`{"name":"x","steps":[]}`, "no steps"},
		{`{"steps":[{"withdraw":true}]}`, "name"},
		{`{"name":"x","steps":[{"type":"12a"}]}`, "unexpected"},
		{`{"name":"x","steps":[{"type":"[ok]"}]}`, "unknown key"},
		{`{"name":"x","steps":[{"hover":{"person":"a","presentation":"mask"}}]}`, "presentation"},
		{`{"name":"x","steps":[{"expect":{"event":"decision","timeout":"-1s"}}]}`, "positive"},
		{`{"name":"x","steps":[{"camera":"smash"}]}`, "camera"},
		{`{"name":"x","steps":[{"network":"flaky"}]}`, `step 1: network: "flaky": want one of cut, cut_after_request, restore`},
		{`{"name":"x","steps":[{"card_reader":"yank"}]}`, `step 1: card_reader: "yank": want "plug" or "unplug"`},
		{`{"name":"x","stepz":[]}`, "unknown field"},
		{`{"name":"x","steps":[{"pos":"pay"}]}`, "pos: want one JSON object"},
		{`{"name":"x","steps":[{"door":"ajar"}]}`, "door"},
		{`{"name":"x","steps":[{"app_enrol":{"person":"dora"}}]}`, "app_enrol: want person, phone and card"},
		{`{"name":"x","steps":[{"pos":{"v":1},"gate":1}]}`, "exactly one action"},
	}
	for _, tt := range tests {
		_, err := ParseScenario([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseScenario(%s) = %v, want error mentioning %q", tt.doc, err, tt.want)
		}
	}
}

func TestParseKeys(t *testing.T) {
	got, err := parseKeys("12[back]3[enter][cancel][delete]")
	if err != nil {
		t.Fatal(err)
	}
	want := []keypad.Key{'1', '2', keypad.Backspace, '3', keypad.Enter, keypad.Cancel, keypad.DeleteMyData}
	if string(toRunes(got)) != string(toRunes(want)) {
		t.Errorf("parseKeys = %q, want %q", toRunes(got), toRunes(want))
	}
}

func toRunes(ks []keypad.Key) []rune {
	r := make([]rune, len(ks))
	for i, k := range ks {
		r[i] = rune(k)
	}
	return r
}

func TestPlayChecksExpectations(t *testing.T) {
	s, err := ParseScenario([]byte(`{"name":"t","steps":[
		{"expect":{"event":"decision","outcome":"approved"}},
		{"expect":{"event":"decision","outcome":"approved"}},
		{"expect":{"event":"decision","timeout":"50ms"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan Event, 8)
	events <- Event{Event: "screen", Screen: "idle"} // skipped: another event
	events <- Event{Event: "decision", Outcome: "approved"}
	events <- Event{Event: "decision", Outcome: "not_recognized"}
	err = s.Play(context.Background(), NewWorld(), events)
	var miss *mismatch
	if !errors.As(err, &miss) || miss.got.Outcome != "not_recognized" {
		t.Errorf("Play = %v, want the second expectation's mismatch", err)
	}
	if err == nil || !strings.Contains(err.Error(), "none came") {
		t.Errorf("Play = %v, want the third expectation to time out", err)
	}
}

func TestWorldScript(t *testing.T) {
	w := NewWorld()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.InsertCard("4539578763621487") // fails Luhn
	if _, err := w.Cards().Next(ctx); err == nil {
		t.Error("an invalid card was read without error")
	}
	w.InsertCard("4539578763621486")
	ev, err := w.Cards().Next(ctx)
	if err != nil || ev.Card.PAN.Last4() != "1486" {
		t.Errorf("card event = %+v, %v", ev, err)
	}
	r, _ := w.Presence().Read(ctx)
	if r.Present {
		t.Error("presence without a hand")
	}
	if err := w.Gate().Open(ctx); err != nil || w.GateOpens() != 1 {
		t.Errorf("gate opens = %d, %v", w.GateOpens(), err)
	}
}

// The camera reports the black level of the capture in front of it, which
// drifts per capture, and the nominal one with nothing there.
func TestCameraBlackLevel(t *testing.T) {
	w := NewWorld()
	if got := w.Camera().BlackLevel(); got != synth.BlackLevel {
		t.Errorf("black level with nothing there %v, want %v", got, synth.BlackLevel)
	}
	seen := map[float64]bool{}
	for range 4 {
		w.Hover(Person{Name: "alice"})
		seen[w.Camera().BlackLevel()] = true
		w.Withdraw()
	}
	if len(seen) < 2 {
		t.Errorf("black levels %v over four captures: want it to drift", seen)
	}
}

// TestCardReaderUnplugged: an unplugged card reader's open port fails (a
// read under way ends), it cannot be opened while out, a card swiped then
// is read by nothing, and plugged back in it opens and reads again.
func TestCardReaderUnplugged(t *testing.T) {
	w := NewWorld()
	c := w.Cards()
	ctx := context.Background()
	read := make(chan error, 1)
	go func() {
		_, err := c.Next(ctx)
		read <- err
	}()
	w.UnplugCards(true)
	select {
	case err := <-read:
		if !errors.Is(err, ErrCardsUnplugged) {
			t.Fatalf("Next under way when unplugged: %v, want ErrCardsUnplugged", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read under way did not end when the reader was unplugged")
	}
	if _, err := c.Next(ctx); !errors.Is(err, ErrCardsUnplugged) {
		t.Errorf("Next while unplugged: %v, want ErrCardsUnplugged", err)
	}
	if err := c.Reopen(ctx); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Reopen while unplugged: %v, want fs.ErrNotExist", err)
	}
	w.InsertCard("4111111111111111") // read by nothing
	w.UnplugCards(false)
	if _, err := c.Next(ctx); !errors.Is(err, ErrCardsUnplugged) {
		t.Errorf("Next on the old port after replug: %v, want ErrCardsUnplugged", err)
	}
	if err := c.Reopen(ctx); err != nil {
		t.Fatalf("Reopen after replug: %v", err)
	}
	w.InsertCard("4539578763621486")
	ev, err := c.Next(ctx)
	if err != nil || ev.Kind != cardreader.Inserted || ev.Card.PAN.Last4() != "1486" {
		t.Errorf("the first card after replug: %v %v, want 1486 inserted (the card swiped while out is lost)", ev.Kind, err)
	}
}
