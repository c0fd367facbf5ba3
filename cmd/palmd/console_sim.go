//go:build sim

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/vision/synth"
)

// stimulator applies the HIL runner's stimuli (scenario steps sent with
// the console's sim command) to the simulated world.
type stimulator struct {
	world *sim.World
	kiosk console.Kiosk
	// afterWithdraw is set when the last stimulus took a hand away while
	// a session ran: see settle.
	afterWithdraw *atomic.Bool
}

// consoleSim is the console's way to the simulated world (nil: none).
func consoleSim(s *simulation, k console.Kiosk) console.Stimulator {
	if s == nil {
		return nil
	}
	return stimulator{world: s.world, kiosk: k, afterWithdraw: new(atomic.Bool)}
}

// stimuli are the actions a sim step may hold: the simulator's (sim.Step)
// but expect, which is the console's own command.
var stimuli = slices.DeleteFunc(sim.Actions(), func(a string) bool { return a == "expect" })

// Stimulate implements console.Stimulator: step is one scenario step (see
// sim.Scenario) holding one action.
func (s stimulator) Stimulate(ctx context.Context, step []byte, check bool) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(step, &fields); err != nil {
		return fmt.Errorf("sim: want one JSON object holding one action (%s): %w", strings.Join(stimuli, ", "), err)
	}
	if len(fields) != 1 {
		return fmt.Errorf("sim: want exactly one action (%s), have %d", strings.Join(stimuli, ", "), len(fields))
	}
	var name string
	for name = range fields {
	}
	if !slices.Contains(stimuli, name) {
		return fmt.Errorf("sim: action %q: want one of %s", name, strings.Join(stimuli, ", "))
	}
	if err := checkStimulus(name, fields[name]); err != nil {
		return err
	}
	doc := []byte(`{"name":"stimulus","steps":[` + string(step) + `]}`)
	sc, err := sim.ParseScenario(doc)
	if err != nil {
		return fmt.Errorf("sim: %s", strings.TrimPrefix(err.Error(), "scenario stimulus: step 1: "))
	}
	if check {
		return nil
	}
	if name == "hover" && s.afterWithdraw.Load() {
		if err := s.settle(ctx); err != nil {
			return err
		}
	}
	s.afterWithdraw.Store(name == "withdraw" && s.kiosk.Status().Session != "")
	if err := sc.Play(ctx, s.world, nil); err != nil {
		return fmt.Errorf("sim: %s: %s", name, strings.TrimPrefix(strings.TrimPrefix(err.Error(), "step 1: "), "sim: "))
	}
	return nil
}

// asksForHand are the screens of a session that waits for a hand: the
// enrolment's prompts (hover, hover_left, and hover_right for the second
// palm).
var asksForHand = map[string]bool{"hover": true, "hover_left": true, "hover_right": true}

// settle waits, after a hand was withdrawn from a running session, until
// that session has ended or asks for a hand, so that a hand presented
// again is a new hand (a hand that arrives while a session shows its
// result starts nothing, by design). People take that long anyway.
func (s stimulator) settle(ctx context.Context) error {
	const most = 30 * time.Second
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(most)
	for {
		if s.kiosk.Status().Session == "" || asksForHand[s.world.Screen().Name] {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("sim: hover: the session the hand was withdrawn from did not end within %v", most)
		case <-tick.C:
		}
	}
}

// checkStimulus names the field of a stimulus that is wrong and its valid
// values, where the simulator's own check (sim.ParseScenario) would not.
func checkStimulus(name string, v json.RawMessage) error {
	switch name {
	case "hover":
		return checkHover(v)
	case "app_enrol":
		_, err := objectFields("app_enrol", v, sim.Fields(sim.AppEnrolStep{}))
		return err
	case "gate":
		var n int
		if err := json.Unmarshal(v, &n); err != nil || n < 0 {
			return fmt.Errorf("sim: gate: %s: want how many times the gate relay has pulsed so far (0, 1, …)", v)
		}
	case "door":
		var d string
		if err := json.Unmarshal(v, &d); err != nil || (d != "open" && d != "close") {
			return fmt.Errorf("sim: door: %s: want \"open\" or \"close\"", v)
		}
	}
	return nil
}

// objectFields decodes the object v of the action name, refusing a field
// not in valid.
func objectFields(name string, v json.RawMessage, valid []string) (map[string]json.RawMessage, error) {
	var h map[string]json.RawMessage
	if err := json.Unmarshal(v, &h); err != nil {
		return nil, fmt.Errorf("sim: %s: want an object with %s: %w", name, strings.Join(valid, ", "), err)
	}
	for f := range h {
		if !slices.Contains(valid, f) {
			return nil, fmt.Errorf("sim: %s: field %q: want one of %s", name, f, strings.Join(valid, ", "))
		}
	}
	return h, nil
}

// checkHover names the hover field that is wrong and its valid values.
func checkHover(v json.RawMessage) error {
	h, err := objectFields("hover", v, sim.Fields(sim.HoverStep{}))
	if err != nil {
		return err
	}
	names := func(vals []string) string { return strings.Join(vals, ", ") }
	var p string
	if raw, ok := h["presentation"]; ok {
		if err := json.Unmarshal(raw, &p); err != nil {
			return errors.New("sim: hover: presentation: want a string")
		}
		if _, err := synth.ParsePresentation(p); err != nil {
			var valid []string
			for _, v := range synth.Presentations() {
				valid = append(valid, v.String())
			}
			return fmt.Errorf("sim: hover: presentation: %q: want one of %s", p, names(valid))
		}
	}
	if raw, ok := h["condition"]; ok {
		var c string
		if err := json.Unmarshal(raw, &c); err != nil {
			return errors.New("sim: hover: condition: want a string")
		}
		if _, err := synth.ParseCondition(c); err != nil {
			var valid []string
			for _, v := range synth.Conditions() {
				valid = append(valid, v.String())
			}
			return fmt.Errorf("sim: hover: condition: %q: want one of %s", c, names(valid))
		}
	}
	return nil
}
