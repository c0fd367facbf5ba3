package main

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware"
)

// eventWriter prints each event as one JSON line, passes it to telemetry, and
// (when a scenario plays) to the scenario player.
type eventWriter struct {
	mu        sync.Mutex
	enc       *json.Encoder
	telemetry func(firmware.Event)
	tee       chan<- sim.Event
}

func newEventWriter(w io.Writer, telemetry func(firmware.Event)) *eventWriter {
	return &eventWriter{enc: json.NewEncoder(w), telemetry: telemetry}
}

func (w *eventWriter) emit(ev firmware.Event) {
	w.mu.Lock()
	_ = w.enc.Encode(ev) // stdout gone is not the kiosk's problem
	w.mu.Unlock()
	w.telemetry(ev)
	if w.tee != nil {
		// The player reads as long as it plays; once it has stopped, the
		// events it would have read are of no use to it.
		select {
		case w.tee <- sim.Event{Event: ev.Event, Flow: ev.Flow, Outcome: ev.Outcome, Screen: ev.Screen}:
		default:
		}
	}
}
