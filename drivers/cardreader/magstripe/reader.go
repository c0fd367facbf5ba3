package magstripe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"go.bug.st/serial"

	"github.com/palmd/palmd/drivers/cardreader"
)

var _ cardreader.Reader = (*Reader)(nil)

// ErrHalted is returned by Next after Halt.
var ErrHalted = errors.New("magstripe: halted")

// result is one line's outcome.
type result struct {
	ev  cardreader.Event
	err error
}

// Reader reads card events from a serial port. Next may be called from one
// goroutine at a time; Halt and Reopen from any.
type Reader struct {
	done chan struct{}
	halt sync.Once
	// path and baud reopen the port Open opened; empty for New.
	path string
	baud int

	mu      sync.Mutex
	results chan result // the current port's lines; closed when it ends
	port    io.Closer   // the port Open opened; nil for New
}

// Open opens the serial port at path (8N1 at baud) and reads it until Halt.
// When the port ends (a USB reader unplugged), Reopen opens it again.
func Open(path string, baud int) (*Reader, error) {
	r := &Reader{done: make(chan struct{}), path: path, baud: baud}
	if err := r.Reopen(context.Background()); err != nil {
		return nil, err
	}
	return r, nil
}

// New reads card events from port until it ends or Halt. It does not close
// port; a Read blocked on it ends only when its owner closes it.
func New(port io.Reader) *Reader {
	r := &Reader{done: make(chan struct{})}
	r.start(port, nil)
	return r
}

func openPort(path string, baud int) (serial.Port, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("magstripe: open %s: %w", path, err)
	}
	if err := p.ResetInputBuffer(); err != nil {
		p.Close()
		return nil, fmt.Errorf("magstripe: %s: %w", path, err)
	}
	return p, nil
}

// Reopen closes the port (if still open) and opens the path again, for a
// reader that went away and came back. It fails for a Reader made by New,
// and after Halt.
func (r *Reader) Reopen(context.Context) error {
	if r.path == "" {
		return errors.New("magstripe: a reader made by New cannot be reopened")
	}
	if r.halted() {
		return ErrHalted
	}
	p, err := openPort(r.path, r.baud)
	if err != nil {
		return err
	}
	r.start(p, p)
	return nil
}

// start reads port in a new goroutine, in place of the port before it.
func (r *Reader) start(port io.Reader, closer io.Closer) {
	results := make(chan result, 4)
	r.mu.Lock()
	old := r.port
	r.results, r.port = results, closer
	r.mu.Unlock()
	if old != nil {
		old.Close()
	}
	if r.halted() && closer != nil { // Halt came first: it closed the old port
		closer.Close()
	}
	go r.read(port, results)
}

func (r *Reader) read(port io.Reader, results chan<- result) {
	defer close(results)
	var l lines
	defer l.reset()
	buf := make([]byte, 64)
	defer clear(buf)
	for {
		n, err := port.Read(buf)
		l.feed(buf[:n], func(line []byte, err error) {
			var ev cardreader.Event
			if err == nil {
				ev, err = parseLine(line)
			}
			r.send(results, result{ev: ev, err: err})
		})
		clear(buf[:n])
		if err != nil {
			if !r.halted() {
				r.send(results, result{err: fmt.Errorf("magstripe: %w", err)})
			}
			return
		}
		if r.halted() {
			return
		}
	}
}

func (r *Reader) send(results chan<- result, res result) {
	select {
	case results <- res:
	case <-r.done:
		res.ev.Card.PAN.Zero()
	}
}

func (r *Reader) halted() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Next implements cardreader.Reader. A line that cannot be read gives an
// error (ErrGarbage, ErrFormat, ErrLRC, ErrTooLong or cardreader.ErrBadPAN,
// wrapped; all wrap cardreader.ErrUnreadable) and the reader carries on
// with the next line. When the port fails or ends, Next returns that error
// from then on, until Reopen.
func (r *Reader) Next(ctx context.Context) (cardreader.Event, error) {
	if r.halted() {
		return cardreader.Event{}, ErrHalted
	}
	r.mu.Lock()
	results := r.results
	r.mu.Unlock()
	select {
	case res, ok := <-results:
		if !ok {
			return cardreader.Event{}, fmt.Errorf("magstripe: port closed: %w", io.EOF)
		}
		return res.ev, res.err
	case <-ctx.Done():
		return cardreader.Event{}, ctx.Err()
	case <-r.done:
		return cardreader.Event{}, ErrHalted
	}
}

// Halt implements cardreader.Reader: it stops reading and closes the port
// Open opened. Next returns ErrHalted afterwards.
func (r *Reader) Halt() error {
	var err error
	r.halt.Do(func() {
		close(r.done)
		r.mu.Lock()
		port := r.port
		r.port = nil
		r.mu.Unlock()
		if port != nil {
			if cerr := port.Close(); cerr != nil {
				err = fmt.Errorf("magstripe: %w", cerr)
			}
		}
	})
	return err
}
