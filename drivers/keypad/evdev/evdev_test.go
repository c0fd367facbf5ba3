package evdev

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/keypad"
)

// drain reads keys until the stream ends and returns them and the end's error.
func drain(t *testing.T, k *Keypad) ([]keypad.Key, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []keypad.Key
	for {
		key, err := k.Next(ctx)
		if err != nil {
			return got, err
		}
		got = append(got, key)
	}
}

func TestRecordedStreams(t *testing.T) {
	tests := []struct {
		file string
		size int
		want string
		end  error
	}{
		// Keypad digits (one auto-repeated, which must not count twice), a
		// backspace, a main-row 0, mouse noise, an unknown key and KP Enter.
		{"phone.events", eventSize64, "07911234567\b0\n", io.EOF},
		// Phone keys KEY_NUMERIC_1, _2, KEY_OK, Esc and Delete, 32-bit time.
		{"phone32.events", eventSize32, "12\n\x1b\x7f", io.EOF},
		// One key, then the stream stops in the middle of an event.
		{"truncated.events", eventSize64, "1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(t, start(bytes.NewReader(b), tt.size, binary.LittleEndian))
			if string(runes(got)) != tt.want {
				t.Errorf("keys %q, want %q", string(runes(got)), tt.want)
			}
			if tt.end != nil && !errors.Is(err, tt.end) {
				t.Errorf("end = %v, want %v", err, tt.end)
			}
			if tt.end == nil && (err == nil || errors.Is(err, io.EOF) || errors.Is(err, ErrHalted)) {
				t.Errorf("end = %v, want an error for the cut event", err)
			}
		})
	}
}

func runes(keys []keypad.Key) []rune {
	r := make([]rune, len(keys))
	for i, k := range keys {
		r[i] = rune(k)
	}
	return r
}

func TestOpenRecordedFile(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixtures are little-endian")
	}
	k, err := Open("testdata/phone.events")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Halt()
	got, err := drain(t, k)
	if string(runes(got)) != "07911234567\b0\n" || !errors.Is(err, io.EOF) {
		t.Errorf("keys %q, end %v", string(runes(got)), err)
	}
	if _, err := Open("testdata/missing"); err == nil {
		t.Error("Open of a missing device succeeded")
	}
}

func TestHaltUnblocksNext(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	k := New(r)
	errc := make(chan error, 1)
	go func() {
		_, err := k.Next(context.Background())
		errc <- err
	}()
	if err := k.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrHalted) {
		t.Fatalf("Next after Halt = %v, want ErrHalted", err)
	}
	if _, err := k.Next(context.Background()); !errors.Is(err, ErrHalted) {
		t.Fatalf("second Next = %v, want ErrHalted", err)
	}
}

func TestNextHonoursContext(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	k := New(r)
	defer k.Halt()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next = %v, want context.Canceled", err)
	}
}

func TestDecodeRejectsOddSizes(t *testing.T) {
	for _, n := range []int{0, 8, 23, 25} {
		if _, err := decode(make([]byte, n), binary.LittleEndian); err == nil {
			t.Errorf("decode of %d bytes succeeded", n)
		}
	}
}

// splitReader delivers its bytes in two reads, cut at n.
type splitReader struct {
	b []byte
	n int
}

func (s *splitReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := len(s.b)
	if s.n > 0 && s.n < n {
		n = s.n
	}
	n = copy(p, s.b[:n])
	s.b, s.n = s.b[n:], 0
	return n, nil
}

func FuzzStream(f *testing.F) {
	for _, name := range []string{"phone.events", "phone32.events", "truncated.events"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, uint(len(b)/2))
		f.Add(b, true, uint(len(b)/2))
	}
	f.Add([]byte{}, false, uint(0))
	f.Fuzz(func(t *testing.T, data []byte, short bool, cut uint) {
		size := eventSize64
		if short {
			size = eventSize32
		}
		whole, wholeErr := drain(t, start(bytes.NewReader(data), size, binary.LittleEndian))
		for _, k := range whole {
			if !known(k) {
				t.Fatalf("key %q is no keypad key", rune(k))
			}
		}
		split, splitErr := drain(t, start(&splitReader{b: data, n: int(cut % uint(len(data)+1))}, size, binary.LittleEndian))
		if string(runes(whole)) != string(runes(split)) || (wholeErr == nil) != (splitErr == nil) {
			t.Fatalf("whole stream gave %q (%v), in two chunks %q (%v)", string(runes(whole)), wholeErr, string(runes(split)), splitErr)
		}
	})
}

// known reports whether some key code maps to k.
func known(k keypad.Key) bool {
	for _, v := range keys {
		if v == k {
			return true
		}
	}
	return false
}

// A device that ends (unplugged) is read again after Reopen: a recorded
// stream in a file stands in for it.
func TestReopenAfterTheDeviceEnded(t *testing.T) {
	k, err := Open("testdata/phone.events")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Halt()
	ctx := context.Background()
	read := func() (n int, err error) {
		for {
			if _, err := k.Next(ctx); err != nil {
				return n, err
			}
			n++
		}
	}
	first, err := read()
	if first == 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("first stream: %d keys, then %v; want keys, then EOF", first, err)
	}
	if err := k.Reopen(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := read(); again != first {
		t.Errorf("after Reopen %d keys, want %d", again, first)
	}
	if err := New(strings.NewReader("")).Reopen(ctx); err == nil {
		t.Error("a keypad made by New reopened")
	}
}
