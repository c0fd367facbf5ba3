package tof

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/i2c"

	"github.com/palmd/palmd/drivers/presence"
)

var _ presence.Sensor = (*Sensor)(nil)

// Errors of the sensor.
var (
	// ErrWrongDevice reports a device at the address that is not a VL53L0X.
	ErrWrongDevice = errors.New("tof: not a VL53L0X (model ID mismatch)")
	// ErrTimeout reports a sensor that produced no sample in time.
	ErrTimeout = errors.New("tof: no sample in time")
)

// DefaultAddress is the VL53L0X's I²C address at power-up.
const DefaultAddress = 0x29

// Registers of the VL53L0X used here.
const (
	regSysrangeStart         = 0x00
	regSystemInterruptConfig = 0x0A
	regSystemInterruptClear  = 0x0B
	regResultInterruptStatus = 0x13
	regResultRangeStatus     = 0x14 // 12-byte result block; range mm at +10
	regVHVConfigPadSCLSDA    = 0x89
	regI2CMode               = 0x88
	regModelID               = 0xC0
	regStopVariable          = 0x91
	regPowerManagementGo1    = 0x80
	regPageSelect            = 0xFF
	modelID                  = 0xEE
	rangeValid               = 11   // device range status of a good range
	sysrangeBackToBack       = 0x02 // continuous ranging
	sysrangeSingleShot       = 0x01 // also stops continuous ranging
	interruptNewSampleReady  = 0x04
	resultBlockLen           = 12
	pollInterval             = 5 * time.Millisecond
	defaultSampleTimeout     = 200 * time.Millisecond
)

// Options tune the presence decision.
type Options struct {
	// Near and Far (mm) bound the capture volume.
	Near, Far int
	// Debounce is how long a new state must hold before Read reports it.
	Debounce time.Duration
	// Timeout bounds the wait for one sample; 0 means 200 ms.
	Timeout time.Duration
	// Clock times polling and debouncing; nil means the real clock.
	Clock clockwork.Clock
}

// Sensor is a VL53L0X on an I²C bus. Its methods are safe for concurrent use.
type Sensor struct {
	dev  i2c.Dev
	o    Options
	stop byte // the sensor's stop variable, read at init

	mu      sync.Mutex
	ranging bool
	stable  presence.Reading // what Read reports
	pending bool             // a different state is being debounced
	since   time.Time        // when the pending state was first seen
}

// New initialises the sensor at addr on bus. It does not start ranging; the
// first Read does. The driver never closes bus.
func New(bus i2c.Bus, addr uint16, o Options) (*Sensor, error) {
	if o.Near < 0 || o.Far <= o.Near {
		return nil, fmt.Errorf("tof: range %d–%d mm: want 0 ≤ near < far", o.Near, o.Far)
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultSampleTimeout
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	s := &Sensor{dev: i2c.Dev{Bus: bus, Addr: addr}, o: o}
	id, err := s.read(regModelID)
	if err != nil {
		return nil, err
	}
	if id != modelID {
		return nil, fmt.Errorf("%w: %#02x at %#02x", ErrWrongDevice, id, addr)
	}
	vhv, err := s.read(regVHVConfigPadSCLSDA)
	if err != nil {
		return nil, err
	}
	if err := s.writes(
		regVHVConfigPadSCLSDA, vhv|0x01, // 2.8 V I/O
		regI2CMode, 0x00, // standard I²C mode
		regPowerManagementGo1, 0x01, regPageSelect, 0x01, regSysrangeStart, 0x00,
	); err != nil {
		return nil, err
	}
	if s.stop, err = s.read(regStopVariable); err != nil {
		return nil, err
	}
	if err := s.writes(
		regSysrangeStart, 0x01, regPageSelect, 0x00, regPowerManagementGo1, 0x00,
		regSystemInterruptConfig, interruptNewSampleReady,
		regSystemInterruptClear, 0x01,
	); err != nil {
		return nil, err
	}
	return s, nil
}

// Read implements presence.Sensor: it takes one sample and returns the
// debounced reading.
func (s *Sensor) Read(ctx context.Context) (presence.Reading, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ranging {
		if err := s.startRanging(); err != nil {
			return presence.Reading{}, err
		}
	}
	mm, valid, err := s.sample(ctx)
	if err != nil {
		return presence.Reading{}, err
	}
	raw := presence.Reading{}
	if valid && mm >= s.o.Near && mm <= s.o.Far {
		raw = presence.Reading{Present: true, MM: mm}
	}
	return s.debounce(raw), nil
}

// debounce returns the reading to report given the raw one; s.mu is held.
func (s *Sensor) debounce(raw presence.Reading) presence.Reading {
	now := s.o.Clock.Now()
	switch {
	case raw.Present == s.stable.Present:
		s.pending = false
		s.stable = raw // the distance follows the hand
	case !s.pending:
		s.pending, s.since = true, now
	}
	if s.pending && now.Sub(s.since) >= s.o.Debounce {
		s.pending = false
		s.stable = raw
	}
	return s.stable
}

func (s *Sensor) startRanging() error {
	if err := s.writes(
		regPowerManagementGo1, 0x01, regPageSelect, 0x01, regSysrangeStart, 0x00,
		regStopVariable, s.stop,
		regSysrangeStart, 0x01, regPageSelect, 0x00, regPowerManagementGo1, 0x00,
		regSysrangeStart, sysrangeBackToBack,
	); err != nil {
		return err
	}
	s.ranging = true
	return nil
}

// sample waits for the next range result and reads it.
func (s *Sensor) sample(ctx context.Context) (mm int, valid bool, err error) {
	deadline := s.o.Clock.Now().Add(s.o.Timeout)
	for {
		st, err := s.read(regResultInterruptStatus)
		if err != nil {
			return 0, false, err
		}
		if st&0x07 != 0 {
			break
		}
		if !s.o.Clock.Now().Before(deadline) {
			return 0, false, ErrTimeout
		}
		select {
		case <-s.o.Clock.After(pollInterval):
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
	var res [resultBlockLen]byte
	if err := s.dev.Tx([]byte{regResultRangeStatus}, res[:]); err != nil {
		return 0, false, fmt.Errorf("tof: read result: %w", err)
	}
	if err := s.writes(regSystemInterruptClear, 0x01); err != nil {
		return 0, false, err
	}
	mm = int(res[10])<<8 | int(res[11])
	return mm, (res[0]>>3)&0x0F == rangeValid, nil
}

// Halt implements presence.Sensor: it stops ranging. The next Read starts
// it again. A Halt that fails leaves the sensor counted as ranging, so the
// next Halt tries again.
func (s *Sensor) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ranging {
		return nil
	}
	s.stable, s.pending = presence.Reading{}, false
	if err := s.writes(
		regSysrangeStart, sysrangeSingleShot,
		regPageSelect, 0x01, 0x00, 0x00, regStopVariable, 0x00, 0x00, 0x01, regPageSelect, 0x00,
	); err != nil {
		return err
	}
	s.ranging = false
	return nil
}

func (s *Sensor) read(reg byte) (byte, error) {
	var b [1]byte
	if err := s.dev.Tx([]byte{reg}, b[:]); err != nil {
		return 0, fmt.Errorf("tof: read %#02x: %w", reg, err)
	}
	return b[0], nil
}

// writes writes register/value pairs, one transaction each.
func (s *Sensor) writes(pairs ...byte) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := s.dev.Tx(pairs[i:i+2], nil); err != nil {
			return fmt.Errorf("tof: write %#02x: %w", pairs[i], err)
		}
	}
	return nil
}
