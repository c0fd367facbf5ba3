package bus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPublishFansOutAndNeverBlocks(t *testing.T) {
	var b Bus
	fast, slow := b.Subscribe(8), b.Subscribe(1)
	for i := range 3 {
		b.Publish(Event{Event: Screen, Screen: string(rune('a' + i))})
	}
	if got := slow.Dropped(); got != 2 {
		t.Errorf("slow subscriber dropped %d, want 2", got)
	}
	fast.Close()
	var got []string
	fast.Each(func(ev Event) { got = append(got, ev.Screen) })
	if strings.Join(got, "") != "abc" {
		t.Errorf("fast subscriber read %q, want abc in order", got)
	}
	b.Publish(Event{Event: Ready}) // after Close: no panic, nothing delivered
	if ev := <-slow.C; ev.Screen != "a" {
		t.Errorf("slow subscriber kept %+v, want the first event", ev)
	}
}

func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSON(&buf)
	s.Write(Event{Time: time.Unix(0, 0).UTC(), Event: Decision, Flow: "identify", Outcome: "approved"})
	s.Write(Event{Time: time.Unix(1, 0).UTC(), Event: Screen, Screen: "idle"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), buf.String())
	}
	for _, l := range lines {
		var ev Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
	}
}

func TestTextShowsStepsAndSessionTime(t *testing.T) {
	var buf bytes.Buffer
	s := NewText(&buf)
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s.Write(Event{Time: t0, Event: Hover, Session: "0123456789abcdef", Flow: "identify"})
	s.Write(Event{Time: t0.Add(700 * time.Millisecond), Event: Liveness, Session: "0123456789abcdef", Score: 0.91})
	s.Write(Event{Time: t0.Add(1500 * time.Millisecond), Event: Decision, Session: "0123456789abcdef",
		Flow: "identify", Outcome: "approved", Subject: "sub-42"})
	out := buf.String()
	for _, want := range []string{"▶ identify session 01234567", "liveness 0.910 (+0.70s)", "■ identify approved subject=sub-42 in 1.50s"} {
		if !strings.Contains(out, want) {
			t.Errorf("view lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("%d lines, want one per event", n)
	}
}
