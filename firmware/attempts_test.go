package firmware

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

func TestAttemptLimits(t *testing.T) {
	type try struct {
		o   wire.Outcome
		pad bool
	}
	fails := func(n int, pad bool) []try {
		var ts []try
		for range n {
			ts = append(ts, try{wire.NotRecognized, pad})
		}
		return ts
	}
	tests := []struct {
		name  string
		tries []try
		want  time.Duration // the wait right after
	}{
		{"nine with PAD", fails(9, true), 0},
		{"ten with PAD", fails(10, true), firstDelay},
		{"four without PAD", fails(4, false), 0},
		{"five without PAD", fails(5, false), firstDelay},
		{"four without and two with", append(fails(4, false), fails(2, true)...), firstDelay},
		{"spoofs count", append(fails(9, true), try{wire.SpoofRejected, true}), firstDelay},
		{"retries and declines do not", append(fails(9, true), try{wire.Retry, true}, try{wire.Declined, true}), 0},
		{"a success resets", append(append(fails(9, true), try{wire.Approved, true}), fails(9, true)...), 0},
		{"each further failure doubles the delay", fails(12, true), 4 * firstDelay},
		{"up to the cap", fails(30, true), maxDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a attempts
			now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
			for _, tr := range tt.tries {
				if w := a.wait(now); w > 0 {
					now = now.Add(w) // the person waits as told
				}
				a.record(now, tr.o, tr.pad)
			}
			if got := a.wait(now); got != tt.want {
				t.Errorf("wait after %d attempts = %v, want %v", len(tt.tries), got, tt.want)
			}
		})
	}
}

// TestLockoutAtTheKiosk: after ten failed identifications the kiosk
// captures nothing and sends nothing, and says when to try again; once
// the delay has passed on the kiosk's clock, the next attempt is served.
func TestLockoutAtTheKiosk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.NotRecognized, nil)
		r.await(t, bus.Screen, "idle")
		for i := range maxFailedPAD {
			r.hover(t, sim.Person{Name: "mallory"})
			if d := r.await(t, bus.Decision, ""); d.Outcome != "not_recognized" {
				t.Fatalf("attempt %d: %+v", i+1, d)
			}
			r.withdraw(t)
			r.awaitIdle(t)
		}
		r.hover(t, sim.Person{Name: "mallory"})
		d := r.await(t, bus.Decision, "")
		if d.Outcome != "retry" || d.Reason != "locked_out" {
			t.Fatalf("attempt past the limit: %+v, want retry locked_out", d)
		}
		r.await(t, bus.Screen, "locked_out")
		// The delay runs from the last failure; the result of that failure
		// stayed up (resultHold) before the hand came back.
		var secs int
		body := r.world.Screens()[len(r.world.Screens())-1].Body
		if _, err := fmt.Sscanf(body, "Please try again in %d seconds.", &secs); err != nil || secs > 30 || secs < 25 {
			t.Errorf("lockout screen %q does not say when to try again (about 30 s)", body)
		}
		r.withdraw(t)
		r.awaitIdle(t)
		if n := len(r.requests()); n != maxFailedPAD {
			t.Fatalf("%d requests, want %d: nothing is sent while locked out", n, maxFailedPAD)
		}
		r.advance(firstDelay)
		r.cloud.mu.Lock()
		r.cloud.outcome = wire.Approved
		r.cloud.mu.Unlock()
		r.hover(t, sim.Person{Name: "alice"})
		if d := r.await(t, bus.Decision, ""); d.Outcome != "approved" {
			t.Fatalf("attempt after the delay: %+v, want approved", d)
		}
	})
}

// TestLockoutOverNATS: the same against the embedded NATS server and the
// reference cloud: Alice enrols, ten strangers' palms fail, Alice is then
// delayed, and served after the delay on the kiosk's clock.
func TestLockoutOverNATS(t *testing.T) {
	devtest.Bubble(t, func(t *testing.T) {
		d, c := startCloud(t)
		r := newRigWith(t, rigOptions{uplink: c, palm: d.palm, card: d.card})
		r.enrolAlice(t)
		for i := range maxFailedPAD {
			r.hover(t, sim.Person{Name: "mallory"})
			if dec := r.await(t, bus.Decision, ""); dec.Outcome != "not_recognized" {
				t.Fatalf("attempt %d: %+v", i+1, dec)
			}
			r.withdraw(t)
			r.awaitIdle(t)
		}
		r.hover(t, sim.Person{Name: "alice"})
		if dec := r.await(t, bus.Decision, ""); dec.Reason != "locked_out" {
			t.Fatalf("genuine attempt during the delay: %+v, want locked_out", dec)
		}
		r.withdraw(t)
		r.awaitIdle(t)
		answered := d.Cloud.Stats().Answered
		r.advance(firstDelay)
		r.hover(t, sim.Person{Name: "alice"})
		if dec := r.await(t, bus.Decision, ""); dec.Outcome != "approved" {
			t.Fatalf("genuine attempt after the delay: %+v, want approved", dec)
		}
		if got := d.Cloud.Stats().Answered; got != answered+1 {
			t.Errorf("cloud answered %d requests across the delay, want 1 (none during it)", got-answered)
		}
	})
}

// natsCloud is the embedded NATS server and reference cloud, and sealers
// to its keys.
type natsCloud struct {
	*dev.Dev
	palm, card *seal.Sealer
}

// startCloud starts the embedded NATS server and reference cloud for
// kiosk-test-1 in-process and dials it as that kiosk, through in-memory
// pipes; call it in a bubble (devtest.Bubble).
func startCloud(t *testing.T) (natsCloud, *uplink.Client) {
	t.Helper()
	const id = "kiosk-test-1"
	d, err := dev.StartInProcess(t.Context(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c, err := uplink.Dial(d.URL, id, d.SignKey, d.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	palm, _ := seal.NewSealer(d.SealKey)
	card, _ := seal.NewSealer(d.PaymentKey)
	eventually(t, c.Connected)
	return natsCloud{Dev: d, palm: palm, card: card}, c
}

// enrolAlice enrols Alice at the idle kiosk: card, phone, palm.
func (r *rig) enrolAlice(t *testing.T) {
	t.Helper()
	r.await(t, bus.Screen, "idle")
	r.world.InsertCard("4539578763621486")
	r.await(t, bus.Screen, "enter_phone")
	r.world.Type('5', '5', '5', '0', '1', '0', '0', '2', '0', '0', keypad.Enter)
	r.enrolPalm(t, sim.Person{Name: "alice"})
	if dec := r.await(t, bus.Decision, ""); dec.Outcome != "approved" {
		t.Fatalf("enrol: %+v", dec)
	}
	r.withdraw(t)
	r.world.RemoveCard()
	r.awaitIdle(t)
}
