package firmware

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/palmd/palmd/drivers/cardreader"
	"github.com/palmd/palmd/drivers/keypad"
	"github.com/palmd/palmd/firmware/pos"
	"github.com/palmd/palmd/uplink/wire"
)

// PartCloud names the cloud link in health events and the status.
const PartCloud = "cloud"

// PartPOS names the point-of-sale link in counters.
const PartPOS = "pos"

// input is one thing that happened, on its way to the loop.
type input interface{ isInput() }

type (
	// presenceEdge: a hand arrived (present) or left.
	presenceEdge struct {
		present bool
		mm      int
	}
	// cardInput: the reader read a card or the card left it.
	cardInput struct{ ev cardreader.Event }
	// keyInput: a key was pressed.
	keyInput struct{ key keypad.Key }
	// inputError: a part delivered something unreadable; it still works.
	inputError struct{ part, reason string }
	// partHealth: a part went down or came back.
	partHealth struct {
		part string
		up   bool
		err  error
	}
	// cloudHealth: the uplink connected or lost the cloud.
	cloudHealth struct{ up bool }
	// command: a verified cloud command.
	command struct{ c wire.Command }
	// modeRequest: maintenance, updating or provisioned switched on or off.
	modeRequest struct{ maintenance, updating, provisioned *bool }
	// posRequest: the point of sale asked for something (pos.Handler).
	posRequest struct {
		conn  uint64
		req   pos.Request
		reply func(pos.Answer) error
	}
	// posGone: the point of sale on conn went away.
	posGone struct{ conn uint64 }
	// jobDone: a session or probe finished.
	jobDone struct {
		j       *job
		outcome string
		camera  *bool // the job learnt whether the camera works
		err     error
	}
)

func (presenceEdge) isInput() {}
func (cardInput) isInput()    {}
func (keyInput) isInput()     {}
func (inputError) isInput()   {}
func (partHealth) isInput()   {}
func (cloudHealth) isInput()  {}
func (command) isInput()      {}
func (modeRequest) isInput()  {}
func (jobDone) isInput()      {}
func (posRequest) isInput()   {}
func (posGone) isInput()      {}

// partOf names the part an input came from.
func partOf(in input) string {
	switch in.(type) {
	case cardInput:
		return PartCards
	case keyInput:
		return PartKeypad
	case presenceEdge:
		return PartPresence
	case posRequest:
		return PartPOS
	}
	return ""
}

// unreadable reports whether err is a bad read of a working part.
func unreadable(err error) bool {
	return errors.Is(err, cardreader.ErrUnreadable) || errors.Is(err, keypad.ErrUnreadable)
}

// reopener is implemented by parts that can be opened again after they
// went away (a USB reader unplugged and plugged back).
type reopener interface {
	Reopen(ctx context.Context) error
}

// startInputs starts one supervisor goroutine per input part.
func (k *Kiosk) startInputs(ctx context.Context, wg *sync.WaitGroup) {
	d := k.o.Devices
	ticker := k.clock.NewTicker(k.o.Timeouts.Presence) // made here: tests tick it at once
	wg.Go(func() { defer ticker.Stop(); k.sample(ctx, ticker.Chan()) })
	wg.Go(func() {
		superviseInput(ctx, k, PartCards, d.Cards, d.Cards.Next, func(ev cardreader.Event) input { return cardInput{ev} },
			func(ev cardreader.Event) { ev.Card.PAN.Zero() })
	})
	wg.Go(func() {
		superviseInput(ctx, k, PartKeypad, d.Keypad, d.Keypad.Next, func(key keypad.Key) input { return keyInput{key} }, nil)
	})
}

// sample reads the presence sensor at its ranging rate and turns readings
// into edges: the loop hears of a hand when it arrives and when it leaves.
func (k *Kiosk) sample(ctx context.Context, tick <-chan time.Time) {
	var present, failing bool
	lim := newLimiter(k.clock, time.Minute)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		r, err := k.o.Devices.Presence.Read(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !failing {
				failing = true
				k.post(partHealth{part: PartPresence, up: false, err: err})
			}
			if lim.allow() {
				k.o.Log.Warn("presence sensor", "err", err)
			}
			continue
		}
		if failing {
			failing = false
			k.post(partHealth{part: PartPresence, up: true})
		}
		k.distance.Store(int64(r.MM))
		if r.Present != present {
			present = r.Present
			k.post(presenceEdge{present: r.Present, mm: r.MM})
		}
	}
}

// superviseInput reads one input part until ctx ends. A garbage read is
// counted and logged (at most once a minute) and never delays the next
// read; a part that fails is reported down, reopened (if it can be) with a
// backoff on the kiosk's clock, and reported up once it reads again.
// Whatever is read goes to the loop; drop wipes a value that cannot be
// handed over at shutdown.
func superviseInput[T any](ctx context.Context, k *Kiosk, part string, dev any,
	next func(context.Context) (T, error), wrap func(T) input, drop func(T)) {
	log := k.o.Log.With("part", part)
	lim := newLimiter(k.clock, time.Minute)
	var b backoff
	down := false
	for {
		v, err := next(ctx)
		if ctx.Err() != nil {
			if err == nil && drop != nil {
				drop(v)
			}
			return
		}
		switch {
		case err == nil:
			if down {
				down = false
				b.reset()
				log.Info("input part back")
				k.post(partHealth{part: part, up: true})
			}
			k.post(wrap(v))
		case unreadable(err):
			if lim.allow() {
				log.Warn("unreadable input", "err", err, "suppressed", lim.suppressed())
			}
			k.post(inputError{part: part, reason: reasonOf(err)})
		default:
			if !down {
				down = true
				log.Error("input part failed", "err", err)
				k.post(partHealth{part: part, up: false, err: err})
			}
			select {
			case <-ctx.Done():
				return
			case <-k.clock.After(b.next()):
			}
			if r, ok := dev.(reopener); ok {
				if err := r.Reopen(ctx); err != nil {
					if lim.allow() {
						log.Warn("reopening", "err", err)
					}
					continue
				}
				// Open again: up now, not at the next swipe.
				down = false
				b.reset()
				log.Info("input part reopened")
				k.post(partHealth{part: part, up: true})
			}
		}
	}
}

// reasonOf is the short, data-free name of an input error for events.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, cardreader.ErrBadPAN):
		return "bad_card_number"
	case errors.Is(err, cardreader.ErrUnreadable):
		return "unreadable"
	}
	return "unreadable"
}

// backoff paces retries of a failing part: 100 ms, doubling up to 10 s.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, 100*time.Millisecond), 10*time.Second)
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

// limiter lets one log line through per period and counts the others, so a
// serial line full of noise cannot flood the log or the console.
type limiter struct {
	clock  interface{ Now() time.Time }
	period time.Duration
	last   time.Time
	quiet  int
}

func newLimiter(c interface{ Now() time.Time }, period time.Duration) *limiter {
	return &limiter{clock: c, period: period}
}

func (l *limiter) allow() bool {
	now := l.clock.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.period {
		l.quiet++
		return false
	}
	l.last = now
	return true
}

// suppressed returns how many lines were held back since the last one let
// through, and starts counting again.
func (l *limiter) suppressed() int {
	n := l.quiet
	l.quiet = 0
	return n
}
