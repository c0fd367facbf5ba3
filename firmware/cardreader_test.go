package firmware

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/cardreader/magstripe"
	"github.com/palmd/palmd/drivers/cardreader/magstripe/magstripetest"
	"github.com/palmd/palmd/firmware/bus"
)

// The real card reader driver over a pseudo-terminal, under the kiosk's
// supervision on a fake clock: garbage on the line never delays a good
// swipe, and a reader unplugged and plugged back is reported down and up.
//
// It is the one rig on the machine's clock, outside a synctest bubble: the
// driver reads the pseudo-terminal in a system call, which a bubble never
// counts as waiting (synctest.Wait would not return), and the line is
// written and closed from outside the kiosk. It polls instead (pollWall).
func TestCardReaderOverPTY(t *testing.T) {
	master, slave := magstripetest.OpenPTY(t)
	// The kiosk opens the reader by a stable name, as udev gives a USB
	// reader: the test points it at each new pseudo-terminal.
	port := filepath.Join(t.TempDir(), "card-reader")
	if err := os.Symlink(slave, port); err != nil {
		t.Fatal(err)
	}
	reader, err := magstripe.Open(port, 9600)
	if err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, rigOptions{edit: func(d *Devices) { d.Cards = reader }})
	r.await(t, bus.Screen, "idle")
	start := r.clock.Now()

	garbage := strings.Repeat("\x00\xff#noise%%\r\n", 20)
	if _, err := master.WriteString(garbage + ";4539578763621486=28121010000000000?<\r\n"); err != nil {
		t.Fatal(err)
	}
	r.await(t, bus.Screen, "enter_phone")
	if d := r.clock.Since(start); d >= time.Second {
		t.Errorf("the good swipe reached the phone screen %v after the garbage, want within the same second", d)
	}
	r.pollWall(t, 0, func() bool { return r.kiosk.Status().Session == "enrol" })
	if n := r.kiosk.Status().Counters["input_errors_cards"]; n != 20 {
		t.Errorf("%d input errors counted, want 20", n)
	}

	// Unplugged: the line ends.
	master.Close()
	if ev := r.awaitHealth(t, PartCards); ev.Reason != "card_reader_down" {
		t.Fatalf("health %+v, want card_reader_down", ev)
	}
	// Whoever reads the health event reads the same status (a rig asks
	// the console right after it).
	if up, known := r.kiosk.Status().Parts[PartCards]; !known || up {
		t.Errorf("status right after card_reader_down: cards up=%v known=%v, want down", up, known)
	}
	// Plugged back in, as a new device behind the same name.
	_, slave2 := magstripetest.OpenPTY(t)
	if err := os.Remove(port); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(slave2, port); err != nil {
		t.Fatal(err)
	}
	r.pollWall(t, 100*time.Millisecond, func() bool { return r.kiosk.Status().Parts[PartCards] })
	if ev := r.awaitHealth(t, PartCards); ev.Reason != "card_reader_up" {
		t.Fatalf("health %+v, want card_reader_up", ev)
	}
	if !r.kiosk.Status().Parts[PartCards] {
		t.Error("status right after card_reader_up: cards down, want up")
	}
}

// pollWall looks at cond every millisecond of the machine's clock, for up
// to a minute, and moves the kiosk's clock by step (if not 0) between
// looks: until and eventually for a rig outside a bubble.
func (r *rig) pollWall(t *testing.T, step time.Duration, cond func() bool) {
	t.Helper()
	for range 60000 {
		if cond() {
			return
		}
		if step > 0 {
			r.clock.Advance(step)
		}
		time.Sleep(time.Millisecond) // let the kiosk's goroutines and the driver's run
	}
	t.Fatal("condition not reached within a minute")
}
