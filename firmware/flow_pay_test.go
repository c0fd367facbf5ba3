package firmware

import (
	"context"
	"net"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// posLink connects a POS client to the rig's kiosk over a pipe, as a
// serial line or a socket does.
func (r *rig) posLink(t *testing.T, srv *pos.Server) *pos.Client {
	t.Helper()
	kiosk, till := net.Pipe()
	go srv.ServeConn(context.Background(), kiosk)
	c := pos.NewClient(till)
	t.Cleanup(func() { c.Close() })
	return c
}

func payReq(id string, amount int64) pos.Request {
	return pos.Request{ID: id, Type: pos.Pay, Amount: amount, Currency: "EUR", Merchant: "Corner Shop"}
}

func TestPay(t *testing.T) {
	tests := []struct {
		name    string
		outcome wire.Outcome
		block   bool // the cloud does not answer until the session ends
		act     func(t *testing.T, r *rig, c *pos.Client)
		want    pos.Answer
		flows   []wire.Flow // the requests the cloud got
		voids   []string
		screen  string
	}{
		{"approved", wire.Approved, false, func(t *testing.T, r *rig, c *pos.Client) {
			r.hover(t, sim.Person{Name: "alice"})
		}, pos.Answer{Status: pos.Approved, Reference: "pay-m1"}, []wire.Flow{wire.FlowPay}, nil, "paid"},
		{"declined", wire.Declined, false, func(t *testing.T, r *rig, c *pos.Client) {
			r.hover(t, sim.Person{Name: "alice"})
		}, pos.Answer{Status: pos.Declined, Reason: "declined"}, []wire.Flow{wire.FlowPay}, nil, "pay_declined"},
		{"not recognised", wire.NotRecognized, false, func(t *testing.T, r *rig, c *pos.Client) {
			r.hover(t, sim.Person{Name: "alice"})
		}, pos.Answer{Status: pos.Declined, Reason: "not_recognized"}, []wire.Flow{wire.FlowPay}, nil, "not_recognized"},
		{"cancelled by the POS", wire.Approved, false, func(t *testing.T, r *rig, c *pos.Client) {
			if a, err := c.Do(context.Background(), pos.Request{ID: "c1", Type: pos.Cancel, Ref: "m1"}); err != nil || a.Status != pos.OK {
				t.Errorf("cancel: %+v, %v", a, err)
			}
		}, pos.Answer{Status: pos.Cancelled, Reason: "pos"}, nil, nil, "idle"},
		{"cancelled at the kiosk", wire.Approved, false, func(t *testing.T, r *rig, c *pos.Client) {
			r.world.Type(keypad.Cancel)
		}, pos.Answer{Status: pos.Cancelled, Reason: "customer"}, nil, nil, "idle"},
		{"nobody comes", wire.Approved, false, func(t *testing.T, r *rig, c *pos.Client) {
			// The wait may begin after the pay screen's event: the clock
			// moves until it has run out.
			r.until(t, time.Second, func() bool { return r.world.Screen().Name == "idle" })
		}, pos.Answer{Status: pos.Cancelled, Reason: "timeout"}, nil, nil, "idle"},
		{"cancelled while the cloud decides", wire.Approved, true, func(t *testing.T, r *rig, c *pos.Client) {
			r.hover(t, sim.Person{Name: "alice"})
			<-r.cloud.requested
			if a, err := c.Do(context.Background(), pos.Request{ID: "c1", Type: pos.Cancel, Ref: "m1"}); err != nil || a.Status != pos.OK {
				t.Errorf("cancel: %+v, %v", a, err)
			}
		}, pos.Answer{Status: pos.Cancelled, Reason: "pos"}, nil, []string{"m1"}, "idle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRigWith(t, rigOptions{outcome: tt.outcome, cloud: func(c *fakeCloud) {
					if tt.block {
						c.requested, c.block = make(chan struct{}, 4), true
					}
				}})
				r.await(t, bus.Screen, "idle")
				c := r.posLink(t, pos.NewServer(r.kiosk.POS(), nil))
				if err := c.Send(payReq("m1", 1250)); err != nil {
					t.Fatal(err)
				}
				r.await(t, bus.Screen, "pay")
				if s := r.world.Screens(); s[len(s)-1].Amount != "EUR 12.50" || s[len(s)-1].Merchant != "Corner Shop" {
					t.Errorf("pay screen shows amount %q and merchant %q, want EUR 12.50 and Corner Shop", s[len(s)-1].Amount, s[len(s)-1].Merchant)
				}
				tt.act(t, r, c)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				a, err := c.Await(ctx, "m1")
				if err != nil {
					t.Fatal(err)
				}
				if a.Status != tt.want.Status || a.Reason != tt.want.Reason || a.Reference != tt.want.Reference || a.ID != "m1" {
					t.Errorf("answer %+v, want %+v", a, tt.want)
				}
				if tt.screen == "idle" {
					r.awaitIdle(t)
				} else {
					r.await(t, bus.Screen, tt.screen)
				}
				eventually(t, func() bool { return r.kiosk.Status().Session == "" || tt.screen != "idle" })
				var flows []wire.Flow
				for _, f := range r.requests() {
					if f != wire.FlowVoid {
						flows = append(flows, f)
					}
				}
				if !slices.Equal(flows, tt.flows) {
					t.Errorf("requests %v, want %v", flows, tt.flows)
				}
				r.cloud.mu.Lock()
				defer r.cloud.mu.Unlock()
				if !slices.Equal(r.cloud.voids, tt.voids) {
					t.Errorf("voids %v, want %v", r.cloud.voids, tt.voids)
				}
			})
		})
	}
}

// TestLoyaltyAndAge: the point of sale gets the loyalty id, or over
// true/false and nothing else, and the age asked reaches the cloud.
func TestLoyaltyAndAge(t *testing.T) {
	f, tr := false, true
	tests := []struct {
		name    string
		req     pos.Request
		outcome wire.Outcome
		screen  string
		want    pos.Answer
	}{
		{"loyalty", pos.Request{ID: "l1", Type: pos.Loyalty}, wire.Approved, "loyalty", pos.Answer{Status: pos.Approved, Loyalty: "L-test"}},
		{"loyalty, stranger", pos.Request{ID: "l2", Type: pos.Loyalty}, wire.NotRecognized, "loyalty", pos.Answer{Status: pos.Declined, Reason: "not_recognized"}},
		{"over", pos.Request{ID: "a1", Type: pos.Age, Over: 21}, wire.Approved, "age_check", pos.Answer{Status: pos.Approved, Over: &tr}},
		{"not over", pos.Request{ID: "a2", Type: pos.Age, Over: 21}, wire.Declined, "age_check", pos.Answer{Status: pos.Approved, Over: &f, Reason: "not_over"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, tt.outcome, nil)
				r.await(t, bus.Screen, "idle")
				c := r.posLink(t, pos.NewServer(r.kiosk.POS(), nil))
				if err := c.Send(tt.req); err != nil {
					t.Fatal(err)
				}
				r.await(t, bus.Screen, tt.screen)
				r.hover(t, sim.Person{Name: "alice"})
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				a, err := c.Await(ctx, tt.req.ID)
				if err != nil {
					t.Fatal(err)
				}
				if a.Status != tt.want.Status || a.Reason != tt.want.Reason || a.Loyalty != tt.want.Loyalty ||
					(a.Over == nil) != (tt.want.Over == nil) || a.Over != nil && *a.Over != *tt.want.Over || a.Reference != "" {
					t.Errorf("answer %+v, want %+v", a, tt.want)
				}
				r.cloud.mu.Lock()
				defer r.cloud.mu.Unlock()
				if tt.req.Type == pos.Age && !slices.Equal(r.cloud.overs, []int{21}) {
					t.Errorf("the cloud was asked about ages %v, want [21]", r.cloud.overs)
				}
			})
		})
	}
}

// TestPOSGoneWhileTheCloudDecides: the POS leaves after the request went
// out; the payment is voided, and the id asked again is answered
// cancelled (pos_gone), with no second request.
func TestPOSGoneWhileTheCloudDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRigWith(t, rigOptions{outcome: wire.Approved, cloud: func(c *fakeCloud) {
			c.requested, c.block = make(chan struct{}, 4), true
		}})
		r.await(t, bus.Screen, "idle")
		srv := pos.NewServer(r.kiosk.POS(), nil)
		gone := r.posLink(t, srv)
		if err := gone.Send(payReq("m1", 1250)); err != nil {
			t.Fatal(err)
		}
		r.await(t, bus.Screen, "pay")
		r.hover(t, sim.Person{Name: "alice"})
		<-r.cloud.requested
		gone.Close()
		if ev := r.await(t, bus.Voided, ""); ev.Flow != "pay" {
			t.Errorf("voided event %+v", ev)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a, err := r.posLink(t, srv).Do(ctx, payReq("m1", 1250))
		if err != nil || a.Status != pos.Cancelled || a.Reason != "pos_gone" {
			t.Fatalf("the id asked again: %+v, %v; want cancelled pos_gone", a, err)
		}
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		if !slices.Equal(r.cloud.voids, []string{"m1"}) {
			t.Errorf("voids %v, want [m1]", r.cloud.voids)
		}
	})
}

// TestApprovalThePOSCouldNotReadIsVoided: the cloud approves, but the
// answer cannot be written (the POS is gone and the link has not noticed
// yet): the payment is voided and the cancellation is replied for the
// stored answer.
func TestApprovalThePOSCouldNotReadIsVoided(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		replies := make(chan pos.Answer, 4)
		r.kiosk.POS().Request(1, payReq("m1", 1250), func(a pos.Answer) error {
			replies <- a
			return pos.ErrGone
		})
		r.await(t, bus.Screen, "pay")
		r.hover(t, sim.Person{Name: "alice"})
		r.await(t, bus.Voided, "")
		if a := <-replies; a.Status != pos.Approved {
			t.Fatalf("first reply %+v, want the approval", a)
		}
		if a := <-replies; a.Status != pos.Cancelled || a.Reason != "pos_gone" {
			t.Fatalf("second reply %+v, want cancelled pos_gone", a)
		}
		r.cloud.mu.Lock()
		defer r.cloud.mu.Unlock()
		if !slices.Equal(r.cloud.voids, []string{"m1"}) {
			t.Errorf("voids %v, want [m1]", r.cloud.voids)
		}
	})
}

// TestPayWhileLockedOut: past the attempt limit a payment captures nothing
// and the point of sale is told why.
func TestPayWhileLockedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, wire.Approved, nil)
		r.await(t, bus.Screen, "idle")
		for range maxFailedPAD {
			r.kiosk.attempts.record(r.clock.Now(), wire.NotRecognized, true)
		}
		c := r.posLink(t, pos.NewServer(r.kiosk.POS(), nil))
		if err := c.Send(payReq("m1", 1250)); err != nil {
			t.Fatal(err)
		}
		r.await(t, bus.Screen, "pay")
		r.hover(t, sim.Person{Name: "alice"})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a, err := c.Await(ctx, "m1")
		if err != nil || a.Status != pos.Declined || a.Reason != "locked_out" {
			t.Fatalf("answer %+v, %v; want declined locked_out", a, err)
		}
		if got := r.requests(); len(got) != 0 {
			t.Errorf("requests %v while locked out", got)
		}
	})
}
