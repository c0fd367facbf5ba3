package sim

import (
	"image"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/vision/synth"
)

// World is the simulated kiosk and its surroundings. Its methods are safe for
// concurrent use: the firmware drives the parts while a scenario drives the
// world.
type World struct {
	mu       sync.Mutex
	hand     *hover      // nil when nothing hovers
	captures uint64      // how many hovers so far; varies each capture
	banks    light.Banks // the LED banks lit now
	unplug   bool        // camera unplugged
	screens  []display.Screen
	opens    int
	// moves are the arrivals (true) and departures (false) of hands the
	// presence sensor has not reported yet: a hand withdrawn and presented
	// again between two readings is still seen to leave and come back, as
	// a real one is (no hand does both within one ranging period).
	moves []bool

	// frames paces the camera at the sensor's frame rate; nil delivers
	// frames as fast as they render.
	frames    clockwork.Clock
	nextFrame time.Time
	cache     *Cache // nil: render every frame

	cards chan cardreader.Event
	// cardPort is the card reader's serial port: closed when the reader
	// is unplugged (an open port then fails, as a USB reader's does), a
	// new one once it is plugged back in.
	cardPort       chan struct{}
	cardsUnplugged bool
	keys           chan keypad.Key
	pos            *posLine // made by POSLine
	door           *bool    // the door's state; nil: the gate has no door contact
	// doorMoves are the door's moves the contact has not reported yet.
	doorMoves []bool
	app       AppEnrolment // the phone app, if the simulation has one

	netCut bool // the network between kiosk and cloud is cut
	// cutAfter cuts the network once the next request has reached the
	// cloud, before its answer comes back.
	cutAfter bool
	onNet    func(cut bool) // told when it is cut or restored
}

// hover is one presentation in front of the scanner.
type hover struct {
	person  Person
	capture synth.Capture
	scene   *synth.Scene
	frame   int // frames captured since the hand arrived
	still   int // frames still to be taken of one instant (HoldStill)
}

// FramePeriod is the simulated sensor's frame time (synth.FramePeriod:
// the OV9281-class sensor at 60 frames a second).
const FramePeriod = synth.FramePeriod

// Option configures a World.
type Option func(*World)

// FrameClock paces the camera on c at FramePeriod, as the real sensor
// delivers frames: hover-to-decision times measured on the simulator then
// mean something. Without it frames come as fast as they render (tests).
func FrameClock(c clockwork.Clock) Option { return func(w *World) { w.frames = c } }

// NewWorld returns an empty world: nothing hovers, no card, blank screen.
func NewWorld(opts ...Option) *World {
	w := &World{
		cards:    make(chan cardreader.Event, 4),
		cardPort: make(chan struct{}),
		keys:     make(chan keypad.Key, 64),
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Person describes who or what hovers: a named identity, how it is presented
// (a live hand or an attack) and the capture condition (good, too far, ...).
// A person follows the display's guidance once (moves the hand to a good
// position, or holds the attack better) unless IgnoresGuidance.
type Person struct {
	Name            string
	Presentation    synth.Presentation
	Condition       synth.Condition
	IgnoresGuidance bool
	// RightHand shows the right palm instead of the left: another palm
	// of the same person, a different identity to the renderer.
	RightHand bool
}

// identity is the renderer's identity of the palm p shows.
func (p Person) identity() uint64 {
	if p.RightHand {
		return synth.IdentityOf(p.Name + "/right")
	}
	return synth.IdentityOf(p.Name)
}

// Hover puts p's hand (or p's attack) over the scanner. Every call is a new
// capture of the same identity: pose, distance and noise differ each time.
func (w *World) Hover(p Person) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hand == nil {
		w.moves = append(w.moves, true)
	}
	w.present(p)
}

// present starts a new capture of p. Callers hold w.mu.
func (w *World) present(p Person) {
	w.captures++
	c := synth.Capture{
		Identity:     p.identity(),
		Seed:         w.captures,
		Presentation: p.Presentation,
		Condition:    p.Condition,
	}
	var scene *synth.Scene
	if w.cache != nil {
		scene = w.cache.scene(c)
	} else {
		scene = synth.NewScene(c)
	}
	w.hand = &hover{person: p, capture: c, scene: scene}
}

// guided is the person reading a guidance screen: unless they ignore it,
// they present again, this time well. Callers hold w.mu.
func (w *World) guided() {
	if w.hand == nil || w.hand.person.IgnoresGuidance {
		return
	}
	p := w.hand.person
	p.Condition = synth.Good
	p.IgnoresGuidance = true // one correction, as people do
	w.present(p)
}

// again is the person reading "once more": the hand is lifted and
// hovered again, a new presentation of the same palm. Callers hold w.mu.
func (w *World) again() {
	if w.hand == nil {
		return
	}
	w.moves = append(w.moves, false, true)
	w.present(w.hand.person)
}

// Withdraw takes the hand away.
func (w *World) Withdraw() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hand != nil {
		w.moves = append(w.moves, false)
	}
	w.hand = nil
}

// HoldStill makes the hovering hand hold perfectly still for the next n
// frames the camera takes: they all show one instant, as when its tremor
// and drift pause together. It does nothing with no hand there.
func (w *World) HoldStill(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hand != nil {
		w.hand.still = n
	}
}

// Unplug disconnects (true) or reconnects (false) the camera.
func (w *World) Unplug(unplugged bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unplug = unplugged
}

// UnplugCards pulls out (true) or plugs back in (false) the card reader, a
// USB device: unplugged, its open port fails and it cannot be opened;
// plugged back in, it opens again (Cards.Reopen). A card swiped while it
// is unplugged is read by nothing.
func (w *World) UnplugCards(unplugged bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case unplugged && !w.cardsUnplugged:
		close(w.cardPort)
	case !unplugged && w.cardsUnplugged:
		w.cardPort = make(chan struct{})
	}
	w.cardsUnplugged = unplugged
}

// CutNetwork cuts (true) or restores (false) the network between the
// kiosk and its cloud; the function given to OnNetwork is told of each
// change.
func (w *World) CutNetwork(cut bool) {
	w.mu.Lock()
	changed, f := w.netCut != cut, w.onNet
	w.netCut = cut
	if !cut {
		w.cutAfter = false
	}
	w.mu.Unlock()
	if changed && f != nil {
		f(cut)
	}
}

// CutNetworkAfterRequest cuts the network once the next request the
// kiosk sends has reached the cloud: the cloud gets it and answers, and
// the answer never comes back (RequestReached).
func (w *World) CutNetworkAfterRequest() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cutAfter = true
}

// RequestReached is told by the simulated network that a request reached
// the cloud. If a cut after a request was asked for, it cuts the network
// now and reports true: the answer is lost.
func (w *World) RequestReached() bool {
	w.mu.Lock()
	cut := w.cutAfter
	w.cutAfter = false
	w.mu.Unlock()
	if cut {
		w.CutNetwork(true)
	}
	return cut
}

// NetworkCut reports whether the network is cut.
func (w *World) NetworkCut() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.netCut
}

// OnNetwork registers f to be told when the network is cut or restored
// (the simulation build tells the kiosk its cloud is lost, as the uplink
// does when the link drops).
func (w *World) OnNetwork(f func(cut bool)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onNet = f
}

// InsertCard reads a card with number pan (digits). An invalid number is
// reported as a read error by the card reader, as a real reader would.
func (w *World) InsertCard(pan string) {
	w.cardEvent(cardreader.Event{Kind: cardreader.Inserted, Card: cardreader.Card{PAN: mustPAN(pan)}})
}

// RemoveCard takes the card out of the reader.
func (w *World) RemoveCard() { w.cardEvent(cardreader.Event{Kind: cardreader.Removed}) }

// cardEvent hands ev to the card reader, unless it is unplugged.
func (w *World) cardEvent(ev cardreader.Event) {
	w.mu.Lock()
	gone := w.cardsUnplugged
	w.mu.Unlock()
	if gone {
		ev.Card.PAN.Zero()
		return
	}
	w.cards <- ev
}

// Type presses keys in order: digits, and the named keys of package keypad.
func (w *World) Type(keys ...keypad.Key) {
	for _, k := range keys {
		w.keys <- k
	}
}

// Screen returns what the display shows now.
func (w *World) Screen() display.Screen {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.screens) == 0 {
		return display.Screen{}
	}
	return w.screens[len(w.screens)-1]
}

// Screens returns every screen shown so far, oldest first.
func (w *World) Screens() []display.Screen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]display.Screen(nil), w.screens...)
}

// GateOpens reports how many times the gate has opened.
func (w *World) GateOpens() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opens
}

// Snapshot renders the current screen (never a camera frame) into an image of
// the given size, for a PNG a person or a test can look at.
func (w *World) Snapshot(size image.Point) *image.RGBA {
	img := image.NewRGBA(image.Rectangle{Max: size})
	display.Render(img, w.Screen())
	return img
}

func mustPAN(s string) cardreader.PAN {
	p, err := cardreader.ParsePAN([]byte(s))
	if err != nil {
		return cardreader.PAN{}
	}
	return p
}
