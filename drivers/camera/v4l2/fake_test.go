package v4l2

import (
	"errors"
	"sync"
	"time"

	"github.com/blackjack/webcam"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sys/unix"
)

// rig is a fake camera socket: it opens fake devices, can be unplugged,
// and keeps what the driver did to each device.
type rig struct {
	mu        sync.Mutex
	unplugged bool
	opens     int
	devs      []*fakeDev
	newDev    func() *fakeDev
}

func (r *rig) open(string) (Device, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opens++
	if r.unplugged {
		return nil, unix.ENOENT
	}
	d := r.newDev()
	r.devs = append(r.devs, d)
	return d, nil
}

func (r *rig) last() *fakeDev {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.devs[len(r.devs)-1]
}

type ctlSet struct {
	id webcam.ControlID
	v  int32
}

var _ Device = (*fakeDev)(nil)

// fakeDev is a V4L2 device with scripted answers; it implements Device.
type fakeDev struct {
	formats  map[webcam.PixelFormat]string
	sizes    []webcam.FrameSize
	controls map[webcam.ControlID]webcam.Control
	chose    webcam.PixelFormat // what S_FMT answers; 0 echoes the request
	frame    []byte             // every frame
	waitErr  error              // WaitForFrame's answer
	frameErr error              // GetFrame's answer
	clock    *clockwork.FakeClock
	tick     time.Duration // advanced on every GetFrame

	format     webcam.PixelFormat
	w, h       uint32
	fps        float32
	set        []ctlSet
	bufs       uint32
	streaming  bool
	closed     bool
	dequeued   int
	released   int
	stopCalled bool
}

func (d *fakeDev) GetSupportedFormats() map[webcam.PixelFormat]string { return d.formats }
func (d *fakeDev) GetSupportedFrameSizes(webcam.PixelFormat) []webcam.FrameSize {
	return d.sizes
}
func (d *fakeDev) SetImageFormat(f webcam.PixelFormat, w, h uint32) (webcam.PixelFormat, uint32, uint32, error) {
	if d.chose != 0 {
		f = d.chose
	}
	d.format, d.w, d.h = f, w, h
	return f, w, h, nil
}
func (d *fakeDev) SetFramerate(fps float32) error                   { d.fps = fps; return nil }
func (d *fakeDev) GetControls() map[webcam.ControlID]webcam.Control { return d.controls }
func (d *fakeDev) SetControl(id webcam.ControlID, v int32) error {
	d.set = append(d.set, ctlSet{id, v})
	return nil
}
func (d *fakeDev) SetBufferCount(n uint32) error { d.bufs = n; return nil }
func (d *fakeDev) StartStreaming() error {
	if d.streaming {
		return errors.New("already streaming")
	}
	d.streaming = true
	return nil
}
func (d *fakeDev) WaitForFrame(uint32) error { return d.waitErr }
func (d *fakeDev) GetFrame() ([]byte, uint32, error) {
	if d.clock != nil {
		d.clock.Advance(d.tick)
	}
	if d.frameErr != nil {
		return nil, 0, d.frameErr
	}
	d.dequeued++
	return d.frame, uint32(d.dequeued % 4), nil
}
func (d *fakeDev) ReleaseFrame(uint32) error { d.released++; return nil }
func (d *fakeDev) StopStreaming() error {
	d.stopCalled = true
	if !d.streaming {
		return errors.New("not streaming")
	}
	d.streaming = false
	return nil
}
func (d *fakeDev) Close() error { d.closed = true; return nil }
