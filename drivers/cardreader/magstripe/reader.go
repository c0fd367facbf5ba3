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
// goroutine at a time; Halt from any.
type Reader struct {
	results chan result
	done    chan struct{}
	halt    sync.Once
	port    io.Closer // the port Open opened; nil for New
}

// Open opens the serial port at path (8N1 at baud) and reads it until Halt.
func Open(path string, baud int) (*Reader, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("magstripe: open %s: %w", path, err)
	}
	if err := p.ResetInputBuffer(); err != nil {
		p.Close()
		return nil, fmt.Errorf("magstripe: %s: %w", path, err)
	}
	r := New(p)
	r.port = p
	return r, nil
}

// New reads card events from port until it ends or Halt. It does not close
// port; a Read blocked on it ends only when its owner closes it.
func New(port io.Reader) *Reader {
	r := &Reader{results: make(chan result, 4), done: make(chan struct{})}
	go r.read(port)
	return r
}

func (r *Reader) read(port io.Reader) {
	defer close(r.results)
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
			r.send(result{ev: ev, err: err})
		})
		clear(buf[:n])
		if err != nil {
			if !r.halted() {
				r.send(result{err: fmt.Errorf("magstripe: %w", err)})
			}
			return
		}
		if r.halted() {
			return
		}
	}
}

func (r *Reader) send(res result) {
	select {
	case r.results <- res:
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
// wrapped) and the reader carries on with the next line. When the port
// fails or ends, Next returns that error from then on.
func (r *Reader) Next(ctx context.Context) (cardreader.Event, error) {
	if r.halted() {
		return cardreader.Event{}, ErrHalted
	}
	select {
	case res, ok := <-r.results:
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
		if r.port != nil {
			if cerr := r.port.Close(); cerr != nil {
				err = fmt.Errorf("magstripe: %w", cerr)
			}
		}
	})
	return err
}
