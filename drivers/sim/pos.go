package sim

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/palmd/palmd/drivers/gate"
)

// posLine is the simulated point of sale's serial line: the kiosk serves
// one end, the scenario writes requests to the other; the answers are read
// and dropped there (the kiosk reports each as an event).
type posLine struct {
	kiosk, till net.Conn
}

// POSLine returns the kiosk's end of the simulated point of sale's line,
// the same for the world's life.
func (w *World) POSLine() io.ReadWriteCloser {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pos == nil {
		k, t := net.Pipe()
		w.pos = &posLine{kiosk: k, till: t}
		go io.Copy(io.Discard, t)
	}
	return w.pos.kiosk
}

// SendPOS writes one request line (a newline is added) from the point of
// sale.
func (w *World) SendPOS(line []byte) error {
	w.POSLine()
	if _, err := w.pos.till.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("sim: point of sale: %w", err)
	}
	return nil
}

// Door moves the gate's door: open or closed. The world's gate has a
// door-state contact from the first call on (before it, DoorOpen reports
// gate.ErrNoDoor, as a gate installed without one does). Each read of the
// contact sees at most one move, so a door opened and closed again
// between two reads is still seen to open (no door does both that fast).
func (w *World) Door(open bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.door == nil {
		w.door = new(bool)
	}
	w.doorMoves = append(w.doorMoves, open)
}

// DoorOpen implements gate.Door.
func (g *Gate) DoorOpen() (bool, error) {
	w := g.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.door == nil {
		return false, gate.ErrNoDoor
	}
	if len(w.doorMoves) > 0 {
		*w.door, w.doorMoves = w.doorMoves[0], w.doorMoves[1:]
	}
	return *w.door, nil
}

// AppEnrolment begins an enrolment in the phone app for a person: the
// simulation build installs one that photographs the person's palm and
// hands it, with the phone and card numbers, to the embedded reference
// cloud.
type AppEnrolment func(person, phone, card string) error

// SetAppEnrolment installs how the world's phone app enrols.
func (w *World) SetAppEnrolment(f AppEnrolment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.app = f
}

// AppEnrol begins person's enrolment in the phone app.
func (w *World) AppEnrol(person, phone, card string) error {
	w.mu.Lock()
	f := w.app
	w.mu.Unlock()
	if f == nil {
		return errors.New("sim: no phone app: app enrolment needs the embedded reference cloud")
	}
	return f(person, phone, card)
}
