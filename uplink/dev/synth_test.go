package dev_test

import (
	"context"
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/roi"
	"github.com/palmd/palmd/vision/synth"
)

// palmROI renders take seed of name's palm (a good, genuine capture) and
// extracts the palm region the kiosk would seal.
func palmROI(t *testing.T, ex *roi.Extractor, name string, seed uint64) *image.Gray {
	t.Helper()
	scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf(name), Seed: seed,
		Presentation: synth.Genuine, Condition: synth.Good})
	frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	scene.Render(frame, 0, true)
	dst := image.NewGray(image.Rect(0, 0, roi.Size, roi.Size))
	if err := ex.Extract(frame, nil, dst); err != nil {
		t.Fatalf("%s take %d: %v", name, seed, err)
	}
	return dst
}

// TestEndToEndSynthPalms drives enrol → identify → delete → not_recognized
// through the embedded server and reference cloud with synthetic palms,
// different takes of the same hand at each step.
func TestEndToEndSynthPalms(t *testing.T) {
	if testing.Short() {
		t.Skip("renders synthetic frames")
	}
	devtest.Bubble(t, testEndToEndSynthPalms)
}

func testEndToEndSynthPalms(t *testing.T) {
	d, c := startDev(t)
	ex := roi.NewExtractor()
	defer ex.Close()
	subjects := map[string]string{}
	steps := []struct {
		flow    wire.Flow
		who     string
		want    wire.Outcome
		subject string // whose subject the decision must name, if any
	}{
		{wire.FlowEnrol, "alice", wire.Approved, ""},
		{wire.FlowIdentify, "alice", wire.Approved, "alice"},
		{wire.FlowIdentify, "bob", wire.NotRecognized, ""},
		{wire.FlowEnrol, "alice", wire.Declined, ""},
		{wire.FlowEnrol, "bob", wire.Approved, ""},
		{wire.FlowIdentify, "bob", wire.Approved, "bob"},
		{wire.FlowDelete, "alice", wire.Approved, "alice"},
		{wire.FlowIdentify, "alice", wire.NotRecognized, ""},
		{wire.FlowIdentify, "bob", wire.Approved, "bob"},
	}
	for i, s := range steps {
		// The bubble's clock does not move while a frame renders.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		dec, err := c.Do(ctx, request(t, d, fmt.Sprint("req-", i), s.flow, palmROI(t, ex, s.who, uint64(100+i))))
		cancel()
		if err != nil {
			t.Fatalf("step %d %s %s: %v", i, s.flow, s.who, err)
		}
		if dec.Outcome != s.want {
			t.Fatalf("step %d %s %s: %s (%s), want %s", i, s.flow, s.who, dec.Outcome, dec.Reason, s.want)
		}
		if s.flow == wire.FlowEnrol && dec.Outcome == wire.Approved {
			subjects[s.who] = dec.Subject
		}
		if s.subject != "" && dec.Subject != subjects[s.subject] {
			t.Fatalf("step %d %s %s: subject %q, want %s's %q", i, s.flow, s.who, dec.Subject, s.subject, subjects[s.subject])
		}
	}
	if d.Cloud.Enrolled() != 1 {
		t.Fatalf("%d enrolments left, want bob's", d.Cloud.Enrolled())
	}
}
