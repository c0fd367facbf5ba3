package evdev

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/drivers/keypad"
)

var _ keypad.Keypad = (*Keypad)(nil)

// ErrHalted is returned by Next after Halt.
var ErrHalted = errors.New("evdev: halted")

// eviocgrab is EVIOCGRAB, _IOW('E', 0x90, int).
const eviocgrab = 0x40044590

// Keypad reads key presses from an input event stream. Next may be called
// from one goroutine at a time; Halt and Reopen from any.
type Keypad struct {
	done chan struct{}
	halt sync.Once
	path string // what Open opened, for Reopen; empty for New

	mu  sync.Mutex
	cur *stream
}

// stream is one opened device (or reader) and the keys read from it.
type stream struct {
	keys   chan keypad.Key
	err    error     // why the stream ended; set before keys is closed
	closer io.Closer // the device Open opened; nil for New
}

// Open opens the input device at path, grabs it for this process and reads
// it until Halt. A path that is not an input device (a recorded stream in a
// file) is read as is. When the device goes away (a USB keypad unplugged),
// Reopen opens it again.
func Open(path string) (*Keypad, error) {
	k := &Keypad{done: make(chan struct{}), path: path}
	if err := k.Reopen(context.Background()); err != nil {
		return nil, err
	}
	return k, nil
}

// New reads events in the 64-bit-time layout of struct input_event (24
// bytes, the machine's byte order) from r until r ends or Halt. It does not
// close r.
func New(r io.Reader) *Keypad { return start(r, eventSize64, binary.NativeEndian) }

func start(r io.Reader, size int, order binary.ByteOrder) *Keypad {
	k := &Keypad{done: make(chan struct{})}
	k.attach(r, nil, size, order)
	return k
}

// Reopen closes the device (if still open) and opens the path again. It
// fails for a Keypad made by New, and after Halt.
func (k *Keypad) Reopen(context.Context) error {
	if k.path == "" {
		return errors.New("evdev: a keypad made by New cannot be reopened")
	}
	if k.halted() {
		return ErrHalted
	}
	f, err := os.Open(k.path)
	if err != nil {
		return fmt.Errorf("evdev: %w", err)
	}
	if err := unix.IoctlSetInt(int(f.Fd()), eviocgrab, 1); err != nil && !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.EINVAL) {
		f.Close()
		return fmt.Errorf("evdev: grab %s: %w", k.path, err)
	}
	k.attach(f, f, eventSize64, binary.NativeEndian)
	return nil
}

// attach reads r in a new goroutine, in place of the stream before it.
func (k *Keypad) attach(r io.Reader, closer io.Closer, size int, order binary.ByteOrder) {
	st := &stream{keys: make(chan keypad.Key, 16), closer: closer}
	k.mu.Lock()
	old := k.cur
	k.cur = st
	k.mu.Unlock()
	if old != nil && old.closer != nil {
		old.closer.Close()
	}
	if k.halted() && closer != nil { // Halt came first: it closed the old one
		closer.Close()
	}
	go k.read(st, r, size, order)
}

// read decodes events until the stream ends or the keypad halts.
func (k *Keypad) read(st *stream, r io.Reader, size int, order binary.ByteOrder) {
	defer close(st.keys)
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			switch {
			case k.halted():
				st.err = ErrHalted
			case errors.Is(err, io.ErrUnexpectedEOF):
				st.err = errors.New("evdev: stream ended inside an event")
			default:
				st.err = fmt.Errorf("evdev: %w", err)
			}
			return
		}
		e, err := decode(buf, order)
		clear(buf) // key codes are phone-number digits
		if err != nil {
			st.err = err
			return
		}
		key, ok := e.key()
		if !ok {
			continue
		}
		select {
		case st.keys <- key:
		case <-k.done:
			st.err = ErrHalted
			return
		}
	}
}

func (k *Keypad) halted() bool {
	select {
	case <-k.done:
		return true
	default:
		return false
	}
}

// Next implements keypad.Keypad. When the stream ends (the device was
// unplugged, or a recorded stream is used up) it returns the reason, io.EOF
// wrapped for a clean end, until Reopen.
func (k *Keypad) Next(ctx context.Context) (keypad.Key, error) {
	if k.halted() {
		return 0, ErrHalted
	}
	k.mu.Lock()
	st := k.cur
	k.mu.Unlock()
	select {
	case key, ok := <-st.keys:
		if !ok {
			return 0, st.err
		}
		return key, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-k.done:
		return 0, ErrHalted
	}
}

// Halt implements keypad.Keypad: it stops reading and releases the device.
// Next returns ErrHalted afterwards.
func (k *Keypad) Halt() error {
	var err error
	k.halt.Do(func() {
		close(k.done)
		k.mu.Lock()
		st := k.cur
		k.mu.Unlock()
		if st != nil && st.closer != nil {
			if cerr := st.closer.Close(); cerr != nil {
				err = fmt.Errorf("evdev: %w", cerr)
			}
		}
	})
	return err
}
