package tof

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/palmd/palmd/drivers/presence"
)

const addr = 0x29

// The expected bus traffic, written from the VL53L0X register map.

func initOps(stop byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0xC0}, R: []byte{0xEE}}, // model ID
		{Addr: addr, W: []byte{0x89}, R: []byte{0x20}}, // VHV pad config
		{Addr: addr, W: []byte{0x89, 0x21}},            // 2.8 V I/O
		{Addr: addr, W: []byte{0x88, 0x00}},
		{Addr: addr, W: []byte{0x80, 0x01}},
		{Addr: addr, W: []byte{0xFF, 0x01}},
		{Addr: addr, W: []byte{0x00, 0x00}},
		{Addr: addr, W: []byte{0x91}, R: []byte{stop}}, // stop variable
		{Addr: addr, W: []byte{0x00, 0x01}},
		{Addr: addr, W: []byte{0xFF, 0x00}},
		{Addr: addr, W: []byte{0x80, 0x00}},
		{Addr: addr, W: []byte{0x0A, 0x04}}, // interrupt on new sample
		{Addr: addr, W: []byte{0x0B, 0x01}}, // clear interrupt
	}
}

func startOps(stop byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x80, 0x01}},
		{Addr: addr, W: []byte{0xFF, 0x01}},
		{Addr: addr, W: []byte{0x00, 0x00}},
		{Addr: addr, W: []byte{0x91, stop}},
		{Addr: addr, W: []byte{0x00, 0x01}},
		{Addr: addr, W: []byte{0xFF, 0x00}},
		{Addr: addr, W: []byte{0x80, 0x00}},
		{Addr: addr, W: []byte{0x00, 0x02}}, // back-to-back ranging
	}
}

func haltOps() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x00, 0x01}},
		{Addr: addr, W: []byte{0xFF, 0x01}},
		{Addr: addr, W: []byte{0x00, 0x00}},
		{Addr: addr, W: []byte{0x91, 0x00}},
		{Addr: addr, W: []byte{0x00, 0x01}},
		{Addr: addr, W: []byte{0xFF, 0x00}},
	}
}

// sampleOps is one ready sample: device range status st, distance mm.
func sampleOps(st byte, mm int) []i2ctest.IO {
	res := make([]byte, 12)
	res[0] = st << 3
	res[10], res[11] = byte(mm>>8), byte(mm)
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x13}, R: []byte{0x04}},
		{Addr: addr, W: []byte{0x14}, R: res},
		{Addr: addr, W: []byte{0x0B, 0x01}},
	}
}

func ops(parts ...[]i2ctest.IO) []i2ctest.IO {
	var all []i2ctest.IO
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func newSensor(t *testing.T, bus *i2ctest.Playback, debounce time.Duration) (*Sensor, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClock()
	s, err := New(bus, addr, Options{Near: 40, Far: 250, Debounce: debounce, Timeout: 10 * time.Millisecond, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

// closeBus fails the test unless every expected transaction happened.
func closeBus(t *testing.T, bus *i2ctest.Playback) {
	t.Helper()
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
}

func TestDebouncedPresence(t *testing.T) {
	steps := []struct {
		st      byte
		mm      int
		advance time.Duration // before this read
		want    presence.Reading
	}{
		{rangeValid, 600, 0, presence.Reading{}},                      // too far: nothing
		{rangeValid, 120, 0, presence.Reading{}},                      // hand arrives: debouncing
		{rangeValid, 118, 60 * time.Millisecond, presence.Reading{}},  // held 60 ms
		{rangeValid, 115, 40 * time.Millisecond, present(115)},        // held 100 ms: present
		{rangeValid, 110, 30 * time.Millisecond, present(110)},        // distance follows
		{4, 8190, 30 * time.Millisecond, present(110)},                // phase failure: debouncing
		{rangeValid, 105, 30 * time.Millisecond, present(105)},        // back: the flicker is ignored
		{rangeValid, 20, 30 * time.Millisecond, present(105)},         // too close: debouncing
		{rangeValid, 8190, 50 * time.Millisecond, present(105)},       // still gone
		{rangeValid, 8190, 60 * time.Millisecond, presence.Reading{}}, // gone for 110 ms
	}
	var want []i2ctest.IO
	want = append(want, initOps(0x3c)...)
	want = append(want, startOps(0x3c)...)
	for _, s := range steps {
		want = append(want, sampleOps(s.st, s.mm)...)
	}
	bus := &i2ctest.Playback{Ops: want, DontPanic: true}
	s, clock := newSensor(t, bus, 100*time.Millisecond)
	for i, st := range steps {
		clock.Advance(st.advance)
		got, err := s.Read(context.Background())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got != st.want {
			t.Errorf("step %d (%d mm, status %d): %+v, want %+v", i, st.mm, st.st, got, st.want)
		}
	}
	closeBus(t, bus)
}

func TestWaitsForSample(t *testing.T) {
	notReady := i2ctest.IO{Addr: addr, W: []byte{0x13}, R: []byte{0x00}}
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(1), startOps(1),
		[]i2ctest.IO{notReady}, sampleOps(rangeValid, 100))}
	s, clock := newSensor(t, bus, 0)
	done := make(chan error, 1)
	var got presence.Reading
	go func() {
		var err error
		got, err = s.Read(context.Background())
		done <- err
	}()
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(pollInterval)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got != (presence.Reading{Present: true, MM: 100}) {
		t.Errorf("Read = %+v", got)
	}
	closeBus(t, bus)
}

func TestSampleTimeout(t *testing.T) {
	notReady := i2ctest.IO{Addr: addr, W: []byte{0x13}, R: []byte{0x00}}
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(1), startOps(1),
		[]i2ctest.IO{notReady, notReady, notReady})}
	s, clock := newSensor(t, bus, 0)
	done := make(chan error, 1)
	go func() {
		_, err := s.Read(context.Background())
		done <- err
	}()
	for range 2 {
		if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(pollInterval)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("Read = %v, want ErrTimeout", err)
	}
	closeBus(t, bus)
}

func TestHaltStopsRanging(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(7), startOps(7), sampleOps(rangeValid, 90),
		haltOps(), startOps(7), sampleOps(rangeValid, 95), haltOps())}
	s, _ := newSensor(t, bus, 0)
	for range 2 {
		if _, err := s.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.Halt(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Halt(); err != nil { // halted already: no traffic
		t.Fatal(err)
	}
	closeBus(t, bus)
}

// failingBus fails every transaction while fail is set.
type failingBus struct {
	*i2ctest.Playback
	fail bool
}

func (b *failingBus) Tx(addr uint16, w, r []byte) error {
	if b.fail {
		return errors.New("bus error")
	}
	return b.Playback.Tx(addr, w, r)
}

func TestHaltRetriesAfterBusError(t *testing.T) {
	play := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(7), startOps(7), sampleOps(rangeValid, 90), haltOps())}
	bus := &failingBus{Playback: play}
	s, err := New(bus, addr, Options{Near: 40, Far: 250, Timeout: 10 * time.Millisecond, Clock: clockwork.NewFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	bus.fail = true
	if err := s.Halt(); err == nil {
		t.Fatal("Halt succeeded on a failing bus")
	}
	bus.fail = false
	if err := s.Halt(); err != nil { // the sensor still ranges: stop it now
		t.Fatal(err)
	}
	closeBus(t, play)
}

func TestWrongDevice(t *testing.T) {
	bus := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{{Addr: addr, W: []byte{0xC0}, R: []byte{0xAA}}}}
	if _, err := New(bus, addr, Options{Near: 40, Far: 250}); !errors.Is(err, ErrWrongDevice) {
		t.Fatalf("New = %v, want ErrWrongDevice", err)
	}
	closeBus(t, bus)
}

func TestBusErrorsSurface(t *testing.T) {
	// The playback expects a different stop variable write: the driver's
	// Tx fails and Read reports it instead of ranging on.
	bus := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(7), startOps(8))}
	s, _ := newSensor(t, bus, 0)
	if _, err := s.Read(context.Background()); err == nil {
		t.Fatal("Read succeeded on a bus that rejected the write")
	}
}

func TestNewRejectsBadRange(t *testing.T) {
	if _, err := New(&i2ctest.Playback{DontPanic: true}, addr, Options{Near: 100, Far: 100}); err == nil {
		t.Fatal("New accepted an empty range")
	}
}

func present(mm int) presence.Reading { return presence.Reading{Present: true, MM: mm} }

// sensorBus answers every read with the fuzzer's bytes (the model ID and
// "sample ready" aside) and accepts every write.
type sensorBus struct{ result []byte }

func (b *sensorBus) String() string { return "fuzz bus" }
func (b *sensorBus) Tx(_ uint16, w, r []byte) error {
	switch {
	case len(w) == 1 && w[0] == 0xC0:
		r[0] = 0xEE
	case len(w) == 1 && w[0] == 0x13:
		r[0] = 0x04
	case len(w) == 1:
		copy(r, b.result)
	}
	return nil
}
func (b *sensorBus) SetSpeed(physic.Frequency) error { return nil }

func FuzzResult(f *testing.F) {
	valid := make([]byte, 12)
	valid[0], valid[10], valid[11] = rangeValid<<3, 0, 120
	f.Add(valid)
	f.Add([]byte{4 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1f, 0xfe})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, result []byte) {
		s, err := New(&sensorBus{result: result}, addr, Options{Near: 40, Far: 250})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Present && (r.MM < 40 || r.MM > 250) || !r.Present && r.MM != 0 {
			t.Fatalf("reading %+v outside the capture volume", r)
		}
	})
}
