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
// from one goroutine at a time; Halt from any.
type Keypad struct {
	keys   chan keypad.Key
	done   chan struct{}
	halt   sync.Once
	closer io.Closer // the device Open opened; nil for New
	err    error     // why the stream ended; set before keys is closed
}

// Open opens the input device at path, grabs it for this process and reads
// it until Halt. A path that is not an input device (a recorded stream in a
// file) is read as is.
func Open(path string) (*Keypad, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evdev: %w", err)
	}
	if err := unix.IoctlSetInt(int(f.Fd()), eviocgrab, 1); err != nil && !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.EINVAL) {
		f.Close()
		return nil, fmt.Errorf("evdev: grab %s: %w", path, err)
	}
	k := start(f, eventSize64, binary.NativeEndian)
	k.closer = f
	return k, nil
}

// New reads events in the 64-bit-time layout of struct input_event (24
// bytes, the machine's byte order) from r until r ends or Halt. It does not
// close r.
func New(r io.Reader) *Keypad { return start(r, eventSize64, binary.NativeEndian) }

func start(r io.Reader, size int, order binary.ByteOrder) *Keypad {
	k := &Keypad{keys: make(chan keypad.Key, 16), done: make(chan struct{})}
	go k.read(r, size, order)
	return k
}

// read decodes events until the stream ends or the keypad halts.
func (k *Keypad) read(r io.Reader, size int, order binary.ByteOrder) {
	defer close(k.keys)
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			switch {
			case k.halted():
				k.err = ErrHalted
			case errors.Is(err, io.ErrUnexpectedEOF):
				k.err = errors.New("evdev: stream ended inside an event")
			default:
				k.err = fmt.Errorf("evdev: %w", err)
			}
			return
		}
		e, err := decode(buf, order)
		clear(buf) // key codes are phone-number digits
		if err != nil {
			k.err = err
			return
		}
		key, ok := e.key()
		if !ok {
			continue
		}
		select {
		case k.keys <- key:
		case <-k.done:
			k.err = ErrHalted
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
// wrapped for a clean end.
func (k *Keypad) Next(ctx context.Context) (keypad.Key, error) {
	if k.halted() {
		return 0, ErrHalted
	}
	select {
	case key, ok := <-k.keys:
		if !ok {
			return 0, k.err
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
		if k.closer != nil {
			if cerr := k.closer.Close(); cerr != nil {
				err = fmt.Errorf("evdev: %w", cerr)
			}
		}
	})
	return err
}
