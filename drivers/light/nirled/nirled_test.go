package nirled

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/palmd/palmd/drivers/light"
	"periph.io/x/conn/v3/physic"
)

type rig struct {
	clock *clockwork.FakeClock
	a, b  *gpiotest.Pin
	pwm   *gpiotest.Pin
	led   *LED
}

func newRig(t *testing.T, withPWM bool) *rig {
	t.Helper()
	r := &rig{
		clock: clockwork.NewFakeClock(),
		a:     &gpiotest.Pin{N: "GPIO17", L: gpio.High},
		b:     &gpiotest.Pin{N: "GPIO23", L: gpio.High},
	}
	var pwm gpio.PinOut
	if withPWM {
		r.pwm = &gpiotest.Pin{N: "GPIO18", L: gpio.High}
		pwm = r.pwm
	}
	led, err := New([]gpio.PinOut{r.a, r.b}, pwm, Options{
		MaxOn: 100 * time.Millisecond, MaxDuty: 0.5, Window: time.Second,
		Duty: gpio.DutyHalf, Freq: 20 * physic.KiloHertz, Clock: r.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.led = led
	return r
}

// want fails unless both bank pins show level l.
func (r *rig) want(t *testing.T, l gpio.Level) {
	t.Helper()
	for _, p := range []*gpiotest.Pin{r.a, r.b} {
		if got := p.Read(); got != l {
			t.Fatalf("%s = %v, want %v", p, got, l)
		}
	}
}

// settled fails unless both bank pins show level l once the cut timer has
// run: the fake clock runs an AfterFunc in a goroutine of its own, and
// synctest.Wait returns when that goroutine is done. Call it in a
// synctest bubble, where the goroutine is the bubble's.
func (r *rig) settled(t *testing.T, l gpio.Level) {
	t.Helper()
	synctest.Wait()
	r.want(t, l)
}

func TestNewTurnsOff(t *testing.T) {
	r := newRig(t, true)
	r.want(t, gpio.Low)
	if r.pwm.Read() != gpio.Low {
		t.Errorf("PWM pin = %v, want low", r.pwm.Read())
	}
}

func TestStrobe(t *testing.T) {
	r := newRig(t, true)
	for i := range 10 {
		if err := r.led.Set(true); err != nil {
			t.Fatalf("frame %d: Set(true): %v", i, err)
		}
		r.want(t, gpio.High)
		r.pwm.Lock()
		d, f := r.pwm.D, r.pwm.F
		r.pwm.Unlock()
		if d != gpio.DutyHalf || f != 20*physic.KiloHertz {
			t.Fatalf("PWM = %v at %v, want 50%% at 20kHz", d, f)
		}
		r.clock.Advance(16 * time.Millisecond)
		if err := r.led.Set(false); err != nil {
			t.Fatal(err)
		}
		r.want(t, gpio.Low)
		if r.pwm.Read() != gpio.Low {
			t.Fatal("PWM pin still driven after Set(false)")
		}
		r.clock.Advance(16 * time.Millisecond)
	}
}

func TestOnTimeLimitCutsLEDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false)
		if err := r.led.Set(true); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(99 * time.Millisecond)
		r.settled(t, gpio.High) // no cut before MaxOn
		r.clock.Advance(time.Millisecond)
		r.settled(t, gpio.Low)
		if err := r.led.Set(true); !errors.Is(err, ErrOnTooLong) {
			t.Fatalf("Set after the cut = %v, want ErrOnTooLong", err)
		}
		r.want(t, gpio.Low)
		// The refusal is reported once; the LEDs may be lit again after.
		if err := r.led.Set(true); err != nil {
			t.Fatalf("Set after the report: %v", err)
		}
		r.want(t, gpio.High)
	})
}

func TestDutyCycleLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, false)
		// 50% of 1 s: five 90 ms pulses use 450 ms, leaving 50 ms.
		for range 5 {
			if err := r.led.Set(true); err != nil {
				t.Fatal(err)
			}
			r.clock.Advance(90 * time.Millisecond)
			if err := r.led.Set(false); err != nil {
				t.Fatal(err)
			}
			r.clock.Advance(10 * time.Millisecond)
		}
		if err := r.led.Set(true); err != nil {
			t.Fatalf("sixth pulse: %v", err)
		}
		r.clock.Advance(50 * time.Millisecond)
		r.settled(t, gpio.Low)
		if err := r.led.Set(true); !errors.Is(err, ErrDutyCycle) {
			t.Fatalf("after the budget ran out: %v, want ErrDutyCycle", err)
		}
		if err := r.led.Set(true); !errors.Is(err, ErrDutyCycle) {
			t.Fatalf("still within the window: %v, want ErrDutyCycle", err)
		}
		r.want(t, gpio.Low)
		// A second later the first pulses have left the window.
		r.clock.Advance(time.Second)
		if err := r.led.Set(true); err != nil {
			t.Fatalf("after the window passed: %v", err)
		}
		r.want(t, gpio.High)
	})
}

func TestHalt(t *testing.T) {
	r := newRig(t, true)
	if err := r.led.Set(true); err != nil {
		t.Fatal(err)
	}
	if err := r.led.Halt(); err != nil {
		t.Fatal(err)
	}
	r.want(t, gpio.Low)
	if r.pwm.Read() != gpio.Low {
		t.Error("PWM pin still driven after Halt")
	}
	// The cut timer was stopped: nothing is refused later.
	r.clock.Advance(time.Second)
	if err := r.led.Set(false); err != nil {
		t.Errorf("Set(false) after Halt: %v", err)
	}
}

type failPin struct{ gpiotest.Pin }

func (p *failPin) Out(gpio.Level) error { return errors.New("gpio: write failed") }

func TestPinErrorsAreReported(t *testing.T) {
	good := &gpiotest.Pin{N: "GPIO17"}
	bad := &failPin{gpiotest.Pin{N: "GPIO5"}}
	_, err := New([]gpio.PinOut{good, bad}, nil, Options{MaxOn: time.Millisecond, MaxDuty: 1, Window: time.Second})
	if err == nil {
		t.Fatal("New succeeded although a pin cannot be driven")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	pin := []gpio.PinOut{&gpiotest.Pin{N: "GPIO17"}}
	ok := Options{MaxOn: 100 * time.Millisecond, MaxDuty: 0.5, Window: time.Second}
	tests := []struct {
		name string
		pins []gpio.PinOut
		pwm  gpio.PinOut
		mod  func(*Options)
	}{
		{"no pins", nil, nil, func(*Options) {}},
		{"no on-time", pin, nil, func(o *Options) { o.MaxOn = 0 }},
		{"duty zero", pin, nil, func(o *Options) { o.MaxDuty = 0 }},
		{"duty above one", pin, nil, func(o *Options) { o.MaxDuty = 1.5 }},
		{"window shorter than on-time", pin, nil, func(o *Options) { o.Window = time.Millisecond }},
		{"pwm without duty", pin, &gpiotest.Pin{N: "GPIO18"}, func(o *Options) { o.Freq = physic.KiloHertz }},
	}
	for _, tt := range tests {
		o := ok
		tt.mod(&o)
		if _, err := New(tt.pins, tt.pwm, o); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
}

// Each bank is its own pin; switching banks while lit is one lighting, and
// the on-time limit still cuts it.
func TestBanks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, true)
		for _, tt := range []struct {
			b    light.Banks
			a, c gpio.Level
		}{
			{light.BankLeft, gpio.High, gpio.Low},
			{light.BankRight, gpio.Low, gpio.High},
			{light.BankBoth, gpio.High, gpio.High},
			{0, gpio.Low, gpio.Low},
		} {
			if err := r.led.SetBanks(tt.b); err != nil {
				t.Fatalf("SetBanks(%b): %v", tt.b, err)
			}
			if r.a.Read() != tt.a || r.b.Read() != tt.c {
				t.Errorf("SetBanks(%b): pins %v %v, want %v %v", tt.b, r.a.Read(), r.b.Read(), tt.a, tt.c)
			}
		}
		if err := r.led.SetBanks(light.BankLeft); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(60 * time.Millisecond)
		if err := r.led.SetBanks(light.BankRight); err != nil { // the same lighting
			t.Fatal(err)
		}
		r.clock.Advance(60 * time.Millisecond) // 120 ms on: past MaxOn
		r.settled(t, gpio.Low)
		if err := r.led.SetBanks(light.BankLeft); !errors.Is(err, ErrOnTooLong) {
			t.Errorf("after the cut: %v, want ErrOnTooLong", err)
		}
	})
}
