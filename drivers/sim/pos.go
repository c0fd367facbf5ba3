package sim

import (
	"fmt"
	"io"
	"net"
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
