package nirled

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"github.com/palmd/palmd/drivers/light"
)

var _ light.Light = (*LED)(nil)

// Errors Set returns when it refuses to light the LEDs.
var (
	// ErrOnTooLong reports that the LEDs stayed on for the longest on-time
	// and were cut.
	ErrOnTooLong = fmt.Errorf("nirled: on-time limit reached: %w", light.ErrSafetyLimit)
	// ErrDutyCycle reports that the LEDs were lit for their share of the
	// duty-cycle window already.
	ErrDutyCycle = fmt.Errorf("nirled: duty-cycle limit reached: %w", light.ErrSafetyLimit)
)

// Options are the LED bank's brightness and safety limits.
type Options struct {
	// MaxOn is the longest the LEDs may stay on at a stretch.
	MaxOn time.Duration
	// MaxDuty (0 < MaxDuty ≤ 1) is the largest share of any Window the LEDs
	// may be on.
	MaxDuty float64
	Window  time.Duration
	// Duty and Freq drive the PWM pin, if there is one, while lit.
	Duty gpio.Duty
	Freq physic.Frequency
	// Clock times the limits; nil means the real clock.
	Clock clockwork.Clock
}

// LED is a bank of NIR LEDs: GPIO outputs, active high, and an optional PWM
// pin. Its methods are safe for concurrent use.
type LED struct {
	banks []gpio.PinOut
	pwm   gpio.PinOut
	o     Options

	mu      sync.Mutex
	on      bool
	lit     light.Banks     // the banks on now (BankBoth for Set(true))
	since   time.Time       // when the LEDs went on
	times   uint64          // how many times the LEDs were lit
	cut     clockwork.Timer // cuts the LEDs when their time runs out
	refused error           // why the LEDs were cut, reported by the next Set
	spans   []span          // on-intervals that end within the window
}

type span struct{ from, to time.Time }

// New returns the LED bank on banks and, if not nil, the PWM pin pwm; it
// turns the LEDs off. It never closes or halts the pins it is given.
func New(banks []gpio.PinOut, pwm gpio.PinOut, o Options) (*LED, error) {
	switch {
	case len(banks) == 0 && pwm == nil:
		return nil, errors.New("nirled: no pins")
	case o.MaxOn <= 0:
		return nil, errors.New("nirled: MaxOn must be positive")
	case o.MaxDuty <= 0 || o.MaxDuty > 1:
		return nil, fmt.Errorf("nirled: MaxDuty %v: must be in (0, 1]", o.MaxDuty)
	case o.Window < o.MaxOn:
		return nil, fmt.Errorf("nirled: Window %v is shorter than MaxOn %v", o.Window, o.MaxOn)
	case pwm != nil && (o.Duty <= 0 || o.Duty > gpio.DutyMax || o.Freq <= 0):
		return nil, fmt.Errorf("nirled: PWM duty %v at %v: want a duty in (0, 100%%] and a frequency", o.Duty, o.Freq)
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	l := &LED{banks: banks, pwm: pwm, o: o}
	if err := l.drive(0); err != nil {
		return nil, err
	}
	return l, nil
}

// Set implements light.Light: every bank on or off.
func (l *LED) Set(on bool) error {
	if on {
		return l.SetBanks(light.BankBoth)
	}
	return l.SetBanks(0)
}

// SetBanks implements light.Light. pins[0] is the left bank and pins[1] the
// right; further pins belong to the bank of their index's parity, and a
// single pin is lit for any bank. Turning the LEDs on is refused, with
// ErrDutyCycle, when they were on for their share of the window already;
// and if the LEDs were cut by a limit since the last call, that call
// reports it (ErrOnTooLong or ErrDutyCycle) and leaves them off. Switching
// from one bank to another while lit counts as one lighting.
func (l *LED) SetBanks(b light.Banks) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.refused; err != nil {
		l.refused = nil
		return err
	}
	if b == 0 {
		if !l.on {
			return nil
		}
		return l.off(l.o.Clock.Now())
	}
	if l.on {
		if b == l.lit {
			return nil
		}
		if err := l.drive(b); err != nil {
			return err
		}
		l.lit = b
		return nil
	}
	now := l.o.Clock.Now()
	left := l.budget(now)
	if left <= 0 {
		return ErrDutyCycle
	}
	limit := ErrOnTooLong
	if left < l.o.MaxOn {
		limit = ErrDutyCycle
	} else {
		left = l.o.MaxOn
	}
	if err := l.drive(b); err != nil {
		_ = l.drive(0)
		return err
	}
	l.on, l.lit, l.since = true, b, now
	l.times++
	times := l.times
	l.cut = l.o.Clock.AfterFunc(left, func() { l.expire(times, limit) })
	return nil
}

// expire cuts the LEDs when the budget of their lit-th lighting has run
// out. A timer that fires as its lighting ends does nothing.
func (l *LED) expire(times uint64, why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on || l.times != times {
		return
	}
	l.refused = why
	if err := l.off(l.o.Clock.Now()); err != nil {
		l.refused = errors.Join(why, err)
	}
}

// Halt implements light.Light: LEDs off.
func (l *LED) Halt() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused = nil
	if !l.on {
		return l.drive(0)
	}
	return l.off(l.o.Clock.Now())
}

// off turns the LEDs off and books the on-time; l.mu is held.
func (l *LED) off(now time.Time) error {
	if l.cut != nil {
		l.cut.Stop()
		l.cut = nil
	}
	if l.on {
		l.spans = append(l.spans, span{l.since, now})
		l.on, l.lit = false, 0
	}
	return l.drive(0)
}

// budget is how much longer the LEDs may be on from now without exceeding
// the duty cycle over the window ending at any later instant; l.mu is held.
// Counting all on-time in the last Window is conservative: it never lets
// the window that starts now exceed its share.
func (l *LED) budget(now time.Time) time.Duration {
	start := now.Add(-l.o.Window)
	used := time.Duration(0)
	keep := l.spans[:0]
	for _, s := range l.spans {
		if !s.to.After(start) {
			continue
		}
		keep = append(keep, s)
		from := s.from
		if from.Before(start) {
			from = start
		}
		used += s.to.Sub(from)
	}
	l.spans = keep
	return time.Duration(l.o.MaxDuty*float64(l.o.Window)) - used
}

// drive lights the pins of banks b; it tries all of them even when one
// fails.
func (l *LED) drive(b light.Banks) error {
	on := b != 0
	var errs []error
	for i, p := range l.banks {
		lit := on
		if len(l.banks) > 1 {
			lit = b&(light.BankLeft<<(i%2)) != 0
		}
		if err := p.Out(gpio.Level(lit)); err != nil {
			errs = append(errs, fmt.Errorf("nirled: %s: %w", p, err))
		}
	}
	if l.pwm != nil {
		var err error
		if on {
			err = l.pwm.PWM(l.o.Duty, l.o.Freq)
		} else {
			err = l.pwm.Out(gpio.Low)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("nirled: %s: %w", l.pwm, err))
		}
	}
	return errors.Join(errs...)
}
