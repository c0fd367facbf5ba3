package bus

import (
	"sync"
	"sync/atomic"
	"time"
)

// Event is one thing that happened at the kiosk, as printed on palmd's
// standard output (one JSON object a line) and sent as telemetry.
type Event struct {
	Time    time.Time `json:"time"`
	Event   string    `json:"event"`
	Session string    `json:"session,omitempty"`
	Flow    string    `json:"flow,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	Screen  string    `json:"screen,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Subject string    `json:"subject,omitempty"`
	// Mode is the supervisor's mode in a "mode" event.
	Mode string `json:"mode,omitempty"`
	// Part names the device of a "health" or "input_error" event.
	Part string `json:"part,omitempty"`
	// Score is the liveness score of a "liveness" event.
	Score float64 `json:"score,omitempty"`
}

// Event names.
const (
	Ready      = "ready"       // the kiosk shows its first screen and serves
	Mode       = "mode"        // the supervisor changed mode (Mode, Reason)
	Screen     = "screen"      // the display changed (Screen names it)
	Hover      = "hover"       // a session began (Flow)
	Guidance   = "guidance"    // a frame failed quality; Reason says why
	Liveness   = "liveness"    // the burst's liveness verdict (Score, Reason)
	Sealed     = "sealed"      // the capture is sealed; raw frames are zeroed
	Decision   = "decision"    // the outcome of a session (Flow, Outcome)
	Cancelled  = "cancelled"   // a session ended by the supervisor (Reason)
	Health     = "health"      // a part went down or came back (Part, Reason)
	InputError = "input_error" // a part delivered something unreadable (Part, Reason)
	CardError  = "card_error"  // the reader could not read a card (Reason)
	Dropped    = "dropped"     // input nobody asked for was dropped (Part)
	Command    = "command"     // a verified cloud command arrived (Reason: its type)
)

// Bus fans events out to subscribers. The zero value is ready to use.
type Bus struct {
	mu   sync.Mutex
	subs map[*Sub]struct{}
}

// Sub is one subscription. Read C until it is closed (by Close).
type Sub struct {
	C       <-chan Event
	c       chan Event
	bus     *Bus
	dropped atomic.Uint64
	once    sync.Once
}

// Subscribe returns a subscription that buffers up to n events.
func (b *Bus) Subscribe(n int) *Sub {
	c := make(chan Event, n)
	s := &Sub{C: c, c: c, bus: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[*Sub]struct{}{}
	}
	b.subs[s] = struct{}{}
	return s
}

// Publish hands ev to every subscriber that has room for it; it never blocks.
func (b *Bus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- ev:
		default:
			s.dropped.Add(1)
		}
	}
}

// Dropped counts the events s had no room for.
func (s *Sub) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription: C yields the events already buffered, then
// is closed.
func (s *Sub) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
		close(s.c)
	})
}

// Each calls f with every event of s, in order, until s is closed.
func (s *Sub) Each(f func(Event)) {
	for ev := range s.C {
		f(ev)
	}
}
