//go:build sim

package main

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/palmd/palmd/drivers/sim"
)

// TestStimulateChecks holds the console's sim command to naming the step's
// action, the field and the valid values, for every action the simulator
// has, before anything is applied.
func TestStimulateChecks(t *testing.T) {
	s := consoleSim(&simulation{world: sim.NewWorld()}, idleKiosk{})
	tests := []struct{ step, want string }{
		{`{"press":"1"}`, `sim: action "press": want one of app_enrol, camera, card_reader, door, gate, hover, insert_card, network, pos, remove_card, type, withdraw`},
		{`{"door":"ajar"}`, `sim: door: "ajar": want "open" or "close"`},
		{`{"card_reader":"yank"}`, `sim: card_reader: "yank": want "plug" or "unplug"`},
		{`{"network":"flaky"}`, `sim: network: "flaky": want one of cut, cut_after_request, restore`},
		{`{"door":1}`, `sim: door: 1: want "open" or "close"`},
		{`{"gate":"once"}`, `sim: gate: "once": want how many times the gate relay has pulsed so far (0, 1, …)`},
		{`{"gate":-1}`, `sim: gate: -1: want how many times`},
		{`{"app_enrol":{"person":"dora","mobile":"1"}}`, `sim: app_enrol: field "mobile": want one of card, person, phone`},
		{`{"app_enrol":{"person":"dora"}}`, `sim: app_enrol: want person, phone and card`},
		{`{"pos":[1]}`, `sim: pos: want one JSON object, the request line`},
		{`{"hover":{"person":"alice","presentation":"photo"}}`, `sim: hover: presentation: "photo": want one of genuine,`},
		{`{"hover":{"persn":"alice"}}`, `sim: hover: field "persn": want one of condition, hand, ignores_guidance, person, presentation`},
		{`{"expect":{"event":"decision"}}`, `sim: action "expect": want one of`},
	}
	for _, tt := range tests {
		err := s.Stimulate(context.Background(), []byte(tt.step), true)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sim check %s = %v, want %q", tt.step, err, tt.want)
		}
	}
	for _, ok := range []string{`{"door":"open"}`, `{"gate":0}`, `{"card_reader":"unplug"}`, `{"network":"cut_after_request"}`, `{"pos":{"v":1,"id":"m1","type":"loyalty"}}`,
		`{"app_enrol":{"person":"dora","phone":"5550100400","card":"4539578763621486"}}`} {
		if err := s.Stimulate(context.Background(), []byte(ok), true); err != nil {
			t.Errorf("sim check %s = %v, want nil", ok, err)
		}
	}
}

// TestStimulatePlays applies the point-of-sale, gate and app steps to the
// simulated world.
func TestStimulatePlays(t *testing.T) {
	w := sim.NewWorld()
	s := consoleSim(&simulation{world: w}, idleKiosk{})
	ctx := context.Background()

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(w.POSLine()).ReadString('\n')
		lines <- line
	}()
	if err := s.Stimulate(ctx, []byte(`{"pos": {"v": 1, "id": "l1", "type": "loyalty"}}`), false); err != nil {
		t.Fatal(err)
	}
	if got, want := <-lines, `{"v":1,"id":"l1","type":"loyalty"}`+"\n"; got != want {
		t.Errorf("the point of sale sent %q, want %q", got, want)
	}

	if err := s.Stimulate(ctx, []byte(`{"gate":0}`), false); err != nil {
		t.Errorf("gate 0 on a gate that never pulsed: %v", err)
	}
	err := s.Stimulate(ctx, []byte(`{"gate":1}`), false)
	if want := "sim: gate: the gate pulsed 0 times, want 1"; err == nil || err.Error() != want {
		t.Errorf("gate 1 on a gate that never pulsed = %v, want %q", err, want)
	}

	if err := s.Stimulate(ctx, []byte(`{"door":"open"}`), false); err != nil {
		t.Fatal(err)
	}
	if open, err := w.Gate().DoorOpen(); err != nil || !open {
		t.Errorf("door after sim door open: open %v, %v; want open", open, err)
	}

	err = s.Stimulate(ctx, []byte(`{"app_enrol":{"person":"dora","phone":"5550100400","card":"4539578763621486"}}`), false)
	if err == nil || !strings.Contains(err.Error(), "sim: app_enrol: no phone app") {
		t.Errorf("app_enrol without a cloud = %v, want no phone app", err)
	}
	var got []string
	w.SetAppEnrolment(func(person, _, _ string) error { got = append(got, person); return nil })
	if err := s.Stimulate(ctx, []byte(`{"app_enrol":{"person":"dora","phone":"5550100400","card":"4539578763621486"}}`), false); err != nil || len(got) != 1 || got[0] != "dora" {
		t.Errorf("app_enrol: %v, enrolled %v; want dora", err, got)
	}
}
