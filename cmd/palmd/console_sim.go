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

// stimuli are the actions a sim step may hold; expect is the console's own
// command.
var stimuli = []string{"camera", "hover", "insert_card", "remove_card", "type", "withdraw"}

var hoverFields = []string{"condition", "ignores_guidance", "person", "presentation"}

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
	for name, v := range fields {
		if !slices.Contains(stimuli, name) {
			return fmt.Errorf("sim: action %q: want one of %s", name, strings.Join(stimuli, ", "))
		}
		if name == "hover" {
			if err := checkHover(v); err != nil {
				return err
			}
		}
	}
	doc := []byte(`{"name":"stimulus","steps":[` + string(step) + `]}`)
	sc, err := sim.ParseScenario(doc)
	if err != nil {
		return fmt.Errorf("sim: %s", strings.TrimPrefix(err.Error(), "scenario stimulus: step 1: "))
	}
	if check {
		return nil
	}
	_, hover := fields["hover"]
	if hover && s.afterWithdraw.Load() {
		if err := s.settle(ctx); err != nil {
			return err
		}
	}
	_, withdraw := fields["withdraw"]
	s.afterWithdraw.Store(withdraw && s.kiosk.Status().Session != "")
	return sc.Play(ctx, s.world, nil)
}

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
		if s.kiosk.Status().Session == "" || s.world.Screen().Name == "hover" {
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

// checkHover names the hover field that is wrong and its valid values.
func checkHover(v json.RawMessage) error {
	var h map[string]json.RawMessage
	if err := json.Unmarshal(v, &h); err != nil {
		return fmt.Errorf("sim: hover: want an object with %s: %w", strings.Join(hoverFields, ", "), err)
	}
	for f := range h {
		if !slices.Contains(hoverFields, f) {
			return fmt.Errorf("sim: hover: field %q: want one of %s", f, strings.Join(hoverFields, ", "))
		}
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
