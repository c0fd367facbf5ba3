package bus

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// JSON writes each event as one JSON object a line, for machines (jq, the
// scenario runner, log shippers).
type JSON struct{ enc *json.Encoder }

// NewJSON returns a sink writing JSON lines to w.
func NewJSON(w io.Writer) *JSON { return &JSON{enc: json.NewEncoder(w)} }

// Write prints ev. A writer that is gone is not the kiosk's problem: the
// error is dropped.
func (j *JSON) Write(ev Event) { _ = j.enc.Encode(ev) }

// Text is the compact live view for a person at a terminal: one line per
// step, each step's time since its session began, and the session's total
// when it ends.
type Text struct {
	w     io.Writer
	start map[string]time.Time // session → when it began
}

// NewText returns a sink writing the human-readable view to w.
func NewText(w io.Writer) *Text { return &Text{w: w, start: map[string]time.Time{}} }

// Write prints ev as one line.
func (t *Text) Write(ev Event) {
	clock := ev.Time.Local().Format("15:04:05.000")
	var line string
	switch ev.Event {
	case Hover:
		t.start[ev.Session] = ev.Time
		line = fmt.Sprintf("%s ▶ %s session %s", clock, ev.Flow, short(ev.Session))
	case Decision, Cancelled:
		what := ev.Outcome
		if ev.Event == Cancelled {
			what = "cancelled"
		}
		line = fmt.Sprintf("%s ■ %s %s%s%s", clock, ev.Flow, what, field("reason", ev.Reason), field("subject", short(ev.Subject)))
		if at, ok := t.start[ev.Session]; ok {
			line += fmt.Sprintf(" in %.2fs", ev.Time.Sub(at).Seconds())
			delete(t.start, ev.Session)
		}
	case Screen:
		line = fmt.Sprintf("%s   screen %s", clock, ev.Screen)
	case Liveness:
		line = fmt.Sprintf("%s   liveness %.3f%s", clock, ev.Score, field("reason", ev.Reason))
	case Mode:
		line = fmt.Sprintf("%s ● mode %s%s", clock, ev.Mode, field("reason", ev.Reason))
	case Health, InputError, Dropped:
		line = fmt.Sprintf("%s ! %s %s%s", clock, ev.Event, ev.Part, field("reason", ev.Reason))
	default:
		line = fmt.Sprintf("%s   %s%s", clock, ev.Event, field("reason", ev.Reason))
	}
	if at, ok := t.start[ev.Session]; ok && ev.Event != Hover {
		line += fmt.Sprintf(" (+%.2fs)", ev.Time.Sub(at).Seconds())
	}
	fmt.Fprintln(t.w, strings.TrimRight(line, " "))
}

func field(name, v string) string {
	if v == "" {
		return ""
	}
	return " " + name + "=" + v
}

// short keeps the first 8 characters of an id: enough to tell sessions
// apart on a screen.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
