package sim

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/vision/synth"
)

//go:embed scenarios/*.json
var builtin embed.FS

// maxScenario bounds a scenario file; real ones are a few kilobytes.
const maxScenario = 1 << 20

// Scenario is a script of actions on the World and expectations about the
// events palmd emits. It is a JSON document:
//
//	{"name": "demo", "steps": [
//	  {"insert_card": "4539578763621486"},
//	  {"type": "5550100200[enter]"},
//	  {"hover": {"person": "alice"}},
//	  {"expect": {"event": "decision", "flow": "enrol", "outcome": "approved"}},
//	  {"withdraw": true}
//	]}
//
// Each step holds exactly one action.
type Scenario struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Steps       []Step `json:"steps"`
}

// Step is one action.
type Step struct {
	// InsertCard reads a card with this number.
	InsertCard string `json:"insert_card,omitempty"`
	// RemoveCard takes the card out.
	RemoveCard bool `json:"remove_card,omitempty"`
	// Type presses keys: digits, and [enter] [cancel] [back] [delete].
	Type string `json:"type,omitempty"`
	// Hover presents a hand or an attack.
	Hover *HoverStep `json:"hover,omitempty"`
	// Withdraw takes the hand away.
	Withdraw bool `json:"withdraw,omitempty"`
	// Camera unplugs ("unplug") or reconnects ("plug") the camera.
	Camera string `json:"camera,omitempty"`
	// CardReader unplugs ("unplug") or reconnects ("plug") the card
	// reader: its open port fails, and the kiosk reopens it once it is
	// back.
	CardReader string `json:"card_reader,omitempty"`
	// Network cuts ("cut") or restores ("restore") the network between
	// the kiosk and its cloud, or cuts it once the next request has
	// reached the cloud ("cut_after_request"): the cloud gets the request,
	// its answer never comes back.
	Network string `json:"network,omitempty"`
	// Expect waits for an event and checks it.
	Expect *Expect `json:"expect,omitempty"`
	// POS sends this request line from the point of sale (package
	// firmware/pos); the kiosk's answer is a pos_answer event.
	POS json.RawMessage `json:"pos,omitempty"`
	// Gate checks how many times the gate relay has pulsed so far.
	Gate *int `json:"gate,omitempty"`
	// Door opens ("open") or closes ("close") the gate's door; the gate
	// has a door contact from the first such step on.
	Door string `json:"door,omitempty"`
	// AppEnrol begins a person's enrolment in the phone app (a photo of
	// the palm, phone and card), which the cloud holds as pending.
	AppEnrol *AppEnrolStep `json:"app_enrol,omitempty"`
}

// AppEnrolStep is an enrolment begun in the phone app.
type AppEnrolStep struct {
	Person string `json:"person"`
	Phone  string `json:"phone"`
	Card   string `json:"card"`
}

// HoverStep names who hovers and how.
type HoverStep struct {
	Person       string `json:"person"`
	Presentation string `json:"presentation,omitempty"` // default "genuine"
	Condition    string `json:"condition,omitempty"`    // default "good"
	// IgnoresGuidance keeps the hand as it is whatever the display says.
	IgnoresGuidance bool `json:"ignores_guidance,omitempty"`
	// Hand is the palm shown: "left" (the default) or "right".
	Hand string `json:"hand,omitempty"`
}

// Expect waits for an event and checks it. With Screen set it waits until
// that screen shows; otherwise it takes the next event named Event and checks
// Flow and Outcome, so a decision other than the expected one fails. Outcome
// may name alternatives: "spoof_rejected|retry".
type Expect struct {
	Event   string   `json:"event"`
	Flow    string   `json:"flow,omitempty"`
	Outcome string   `json:"outcome,omitempty"`
	Screen  string   `json:"screen,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Timeout Duration `json:"timeout,omitempty"` // default 30s
}

// Duration is a time.Duration written as "30s" in JSON.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v <= 0 {
		return fmt.Errorf("duration %q: must be positive", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Event is what the player reads of one event palmd emitted: the fields of its
// JSON line that expectations can check.
type Event struct {
	Event   string `json:"event"`
	Flow    string `json:"flow,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Screen  string `json:"screen,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ParseScenario decodes and validates a scenario document.
func ParseScenario(b []byte) (Scenario, error) {
	var s Scenario
	if len(b) > maxScenario {
		return s, fmt.Errorf("scenario: %d bytes, more than %d", len(b), maxScenario)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Scenario{}, fmt.Errorf("scenario: %w", err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return Scenario{}, errors.New("scenario: trailing data after the JSON object")
	}
	if s.Name == "" {
		return Scenario{}, errors.New("scenario: name: must not be empty")
	}
	if len(s.Steps) == 0 {
		return Scenario{}, fmt.Errorf("scenario %s: no steps", s.Name)
	}
	for i, st := range s.Steps {
		if err := st.validate(); err != nil {
			return Scenario{}, fmt.Errorf("scenario %s: step %d: %w", s.Name, i+1, err)
		}
	}
	return s, nil
}

// LoadScenario returns the built-in scenario called name, or, if name is not
// one, the scenario in the file at that path.
func LoadScenario(name string) (Scenario, error) {
	b, err := builtin.ReadFile("scenarios/" + name + ".json")
	if err != nil {
		if b, err = os.ReadFile(name); err != nil {
			return Scenario{}, fmt.Errorf("scenario %q: not built in (have %s) and not a readable file: %w",
				name, strings.Join(Builtin(), ", "), err)
		}
	}
	return ParseScenario(b)
}

// Builtin lists the built-in scenarios' names.
func Builtin() []string {
	entries, _ := builtin.ReadDir("scenarios")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	sort.Strings(names)
	return names
}

func (st Step) validate() error {
	n := 0
	for _, set := range []bool{st.InsertCard != "", st.RemoveCard, st.Type != "", st.Hover != nil,
		st.Withdraw, st.Camera != "", st.CardReader != "", st.Network != "", st.Expect != nil, st.POS != nil, st.Gate != nil, st.Door != "", st.AppEnrol != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("want exactly one action, have %d", n)
	}
	switch {
	case st.Type != "":
		if _, err := parseKeys(st.Type); err != nil {
			return err
		}
	case st.Hover != nil:
		if _, err := st.Hover.person(); err != nil {
			return err
		}
	case st.Camera != "":
		if st.Camera != "plug" && st.Camera != "unplug" {
			return fmt.Errorf("camera: %q: want \"plug\" or \"unplug\"", st.Camera)
		}
	case st.CardReader != "":
		if st.CardReader != "plug" && st.CardReader != "unplug" {
			return fmt.Errorf("card_reader: %q: want \"plug\" or \"unplug\"", st.CardReader)
		}
	case st.Network != "":
		if !slices.Contains(NetworkSteps(), st.Network) {
			return fmt.Errorf("network: %q: want one of %s", st.Network, strings.Join(NetworkSteps(), ", "))
		}
	case st.Expect != nil:
		if st.Expect.Event == "" {
			return errors.New("expect: event: must not be empty")
		}
	case st.AppEnrol != nil:
		if st.AppEnrol.Person == "" || st.AppEnrol.Phone == "" || st.AppEnrol.Card == "" {
			return errors.New("app_enrol: want person, phone and card")
		}
	case st.Door != "":
		if st.Door != "open" && st.Door != "close" {
			return fmt.Errorf("door: %q: want \"open\" or \"close\"", st.Door)
		}
	case st.POS != nil:
		if len(st.POS) == 0 || st.POS[0] != '{' {
			return errors.New("pos: want one JSON object, the request line")
		}
	}
	return nil
}

// NetworkSteps lists the values a network step takes, sorted.
func NetworkSteps() []string { return []string{"cut", "cut_after_request", "restore"} }

func (h HoverStep) person() (Person, error) {
	if h.Person == "" {
		return Person{}, errors.New("hover: person: must not be empty")
	}
	p := Person{Name: h.Person, Presentation: synth.Genuine, Condition: synth.Good, IgnoresGuidance: h.IgnoresGuidance}
	var err error
	if h.Presentation != "" {
		if p.Presentation, err = synth.ParsePresentation(h.Presentation); err != nil {
			return Person{}, fmt.Errorf("hover: presentation: %w", err)
		}
	}
	if h.Condition != "" {
		if p.Condition, err = synth.ParseCondition(h.Condition); err != nil {
			return Person{}, fmt.Errorf("hover: condition: %w", err)
		}
	}
	switch h.Hand {
	case "", "left":
	case "right":
		p.RightHand = true
	default:
		return Person{}, fmt.Errorf("hover: hand: %q: want \"left\" or \"right\"", h.Hand)
	}
	return p, nil
}

var namedKeys = map[string]keypad.Key{
	"enter":  keypad.Enter,
	"cancel": keypad.Cancel,
	"back":   keypad.Backspace,
	"delete": keypad.DeleteMyData,
}

// parseKeys turns "555[enter]" into key presses.
func parseKeys(s string) ([]keypad.Key, error) {
	var keys []keypad.Key
	for s != "" {
		switch c := s[0]; {
		case c >= '0' && c <= '9':
			keys = append(keys, keypad.Key(c))
			s = s[1:]
		case c == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("type: unclosed %q", s)
			}
			k, ok := namedKeys[s[1:end]]
			if !ok {
				return nil, fmt.Errorf("type: unknown key %q (want [enter], [cancel], [back] or [delete])", s[:end+1])
			}
			keys = append(keys, k)
			s = s[end+1:]
		default:
			return nil, fmt.Errorf("type: unexpected %q: want digits or [named] keys", c)
		}
	}
	return keys, nil
}

// Play runs the scenario against w, reading palmd's events from events. It
// returns nil only if every expectation held; otherwise an error naming each
// one that did not. It stops early when an expected event never comes.
func (s Scenario) Play(ctx context.Context, w *World, events <-chan Event) error {
	var failed []error
	for i, st := range s.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case st.InsertCard != "":
			w.InsertCard(st.InsertCard)
		case st.RemoveCard:
			w.RemoveCard()
		case st.Type != "":
			keys, _ := parseKeys(st.Type) // validated by ParseScenario
			w.Type(keys...)
		case st.Hover != nil:
			p, _ := st.Hover.person()
			w.Hover(p)
		case st.Withdraw:
			w.Withdraw()
		case st.Camera != "":
			w.Unplug(st.Camera == "unplug")
		case st.CardReader != "":
			w.UnplugCards(st.CardReader == "unplug")
		case st.Network == "cut_after_request":
			w.CutNetworkAfterRequest()
		case st.Network != "":
			w.CutNetwork(st.Network == "cut")
		case st.POS != nil:
			var line bytes.Buffer
			json.Compact(&line, st.POS) // valid: decoded by ParseScenario
			if err := w.SendPOS(line.Bytes()); err != nil {
				return errors.Join(append(failed, fmt.Errorf("step %d: %w", i+1, err))...)
			}
		case st.Door != "":
			w.Door(st.Door == "open")
		case st.AppEnrol != nil:
			if err := w.AppEnrol(st.AppEnrol.Person, st.AppEnrol.Phone, st.AppEnrol.Card); err != nil {
				return errors.Join(append(failed, fmt.Errorf("step %d: %w", i+1, err))...)
			}
		case st.Gate != nil:
			if got := w.GateOpens(); got != *st.Gate {
				failed = append(failed, fmt.Errorf("step %d: the gate pulsed %d times, want %d", i+1, got, *st.Gate))
			}
		case st.Expect != nil:
			if err := st.Expect.await(ctx, events); err != nil {
				err = fmt.Errorf("step %d: %w", i+1, err)
				var miss *mismatch
				if !errors.As(err, &miss) {
					return errors.Join(append(failed, err)...)
				}
				failed = append(failed, err)
			}
		}
	}
	return errors.Join(failed...)
}

// mismatch is an expected event that came with other fields than expected.
type mismatch struct{ want, got Event }

func (m *mismatch) Error() string {
	return fmt.Sprintf("expected %s, got %s", describe(m.want), describe(m.got))
}

func describe(e Event) string {
	parts := []string{e.Event}
	for _, kv := range [][2]string{{"flow", e.Flow}, {"outcome", e.Outcome}, {"screen", e.Screen}, {"reason", e.Reason}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func (x Expect) await(ctx context.Context, events <-chan Event) error {
	timeout := time.Duration(x.Timeout)
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	want := Event{Event: x.Event, Flow: x.Flow, Outcome: x.Outcome, Screen: x.Screen, Reason: x.Reason}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("expected %s, but palmd stopped emitting events", describe(want))
			}
			if ev.Event != x.Event || (x.Screen != "" && ev.Screen != x.Screen) {
				continue
			}
			if (x.Flow != "" && ev.Flow != x.Flow) || (x.Outcome != "" && !slices.Contains(strings.Split(x.Outcome, "|"), ev.Outcome)) ||
				(x.Reason != "" && ev.Reason != x.Reason) {
				return &mismatch{want: want, got: ev}
			}
			return nil
		case <-timer.C:
			return fmt.Errorf("expected %s within %v: none came", describe(want), timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
