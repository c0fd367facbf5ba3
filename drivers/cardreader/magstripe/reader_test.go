package magstripe

import (
	"context"
	"errors"
	"github.com/palmd/palmd/drivers/cardreader/magstripe/magstripetest"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
)

func next(t *testing.T, r *Reader) (cardreader.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := r.Next(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("no event from the reader")
	}
	return ev, err
}

func TestReaderOverPTY(t *testing.T) {
	master, slave := magstripetest.OpenPTY(t)
	r, err := Open(slave, 9600)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Halt()

	write := func(s string) {
		t.Helper()
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	// A swipe delivered in two chunks, then noise from a reader at the
	// wrong baud rate, a bad LRC, a good card, its removal and a cut line
	// followed by a good one.
	swipe := visaT1 + visaT2 + "\r\n"
	write(swipe[:25])
	write(swipe[25:])
	write("\xf0\x80\x1c\xfe\xe0\r\n")
	write(strings.Replace(mcT2, "?4", "?5", 1) + "\r\n")
	write(mcT2 + "\r\n")
	write("CARD OUT\r\n")
	write(visaT2[:12] + "\r\n" + mcT1 + "\r\n")

	want := []struct {
		kind  cardreader.Kind
		last4 string
		err   error
	}{
		{cardreader.Inserted, "1111", nil},
		{0, "", ErrGarbage},
		{0, "", ErrLRC},
		{cardreader.Inserted, "4444", nil},
		{cardreader.Removed, "", nil},
		{0, "", ErrFormat},
		{cardreader.Inserted, "4444", nil},
	}
	for i, w := range want {
		ev, err := next(t, r)
		if w.err != nil {
			if !errors.Is(err, w.err) {
				t.Fatalf("event %d: err %v, want %v", i, err, w.err)
			}
			if digitRun.MatchString(err.Error()) {
				t.Fatalf("event %d: error %q shows card digits", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Kind != w.kind || ev.Card.PAN.Last4() != w.last4 {
			t.Fatalf("event %d: %v %v, want %v ••••%s", i, ev.Kind, ev.Card.PAN, w.kind, w.last4)
		}
		ev.Card.PAN.Zero()
	}
}

func TestHaltUnblocksNextAndClosesPort(t *testing.T) {
	_, slave := magstripetest.OpenPTY(t)
	r, err := Open(slave, 115200)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		errc <- err
	}()
	if err := r.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrHalted) {
		t.Fatalf("Next after Halt = %v, want ErrHalted", err)
	}
	// The port is free again: a second driver can open it.
	r2, err := Open(slave, 115200)
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	r2.Halt()
}

func TestOpenMissingPort(t *testing.T) {
	if _, err := Open("/dev/ttyNOSUCH9", 9600); err == nil {
		t.Fatal("Open of a missing port succeeded")
	}
}
