package firmware

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/palmd/palmd/drivers/camera"
	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/quality"
)

// errCamera reports a camera that failed during a capture.
var errCamera = errors.New("firmware: camera failed")

const (
	// guidanceHold is the least time a guidance message stays on the display.
	guidanceHold = 800 * time.Millisecond
	// ledRest is how long to wait before lighting LEDs that refused for safety.
	ledRest = 50 * time.Millisecond
)

// capture runs the strobed capture of one session: it gates frames for
// quality (guiding the person on the display) until a whole burst is good,
// checks the burst for liveness, and extracts the palm region into k.palm.
// It returns "" when the capture was accepted, or the local outcome
// (retry, spoof_rejected) and its reason.
func (k *Kiosk) capture(ctx context.Context, s session) (wire.Outcome, string, error) {
	ctx, cancel := context.WithTimeout(ctx, k.o.Timeouts.Capture)
	defer cancel()
	k.quality.Reset()
	var shown display.Screen // the guidance on screen, and since when
	var since time.Time
	last := quality.Verdict{Reason: quality.NoPalm}
	for {
		ok, err := k.burstOK(ctx, &last)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return wire.Retry, string(last.Reason), nil
		case err != nil:
			return wire.Retry, "camera", err
		case !ok:
			// The first frame cannot be judged for motion yet: nothing
			// to tell the person. A message stays up long enough to be
			// read: a hand between two faults would otherwise flip the
			// screen every frame.
			if last.Reason == quality.Moving && last.Scores.Motion < 0 {
				continue
			}
			if g := guidanceScreen(last.Reason); g.Name != shown.Name && time.Since(since) >= guidanceHold {
				shown, since = g, time.Now()
				k.emit(Event{Event: EvGuidance, Session: s.id, Reason: string(last.Reason)})
				k.show(g)
			}
			continue
		}
		res := k.live.Check(k.burst)
		k.emit(Event{Event: EvLiveness, Session: s.id, Score: res.Score, Reason: res.Reason})
		if !res.Live {
			return wire.SpoofRejected, res.Reason, nil
		}
		if err := k.roi.Extract(k.burst[0].Lit, k.palm); err != nil {
			last = quality.Verdict{Reason: quality.NoPalm}
			continue
		}
		return "", "", nil
	}
}

// burstOK fills k.burst with strobed pairs as long as every lit frame passes
// the quality gate; last is set to the first failing verdict.
func (k *Kiosk) burstOK(ctx context.Context, last *quality.Verdict) (bool, error) {
	for i := range k.burst {
		if err := k.strobe(ctx, k.burst[i].Lit, k.burst[i].Unlit); err != nil {
			return false, err
		}
		if v := k.quality.Check(k.burst[i].Lit); !v.OK {
			*last = v
			return false, nil
		}
	}
	return true, nil
}

// strobe captures a lit and an unlit frame of the same instant. When the
// LEDs refuse to light for safety (duty cycle, on-time), it waits for them
// and tries again: that is pacing, not a fault.
func (k *Kiosk) strobe(ctx context.Context, lit, unlit *image.Gray) error {
	l := k.o.Devices.Light
	for {
		err := l.Set(true)
		if err == nil {
			break
		}
		if !errors.Is(err, light.ErrSafetyLimit) {
			return fmt.Errorf("%w: light: %w", errCamera, err)
		}
		k.o.Log.Debug("LEDs resting", "err", err)
		sleep(ctx, ledRest)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	err := k.o.Devices.Camera.Capture(ctx, lit)
	if offErr := l.Set(false); err == nil && offErr != nil {
		err = offErr
	}
	if err == nil {
		err = k.o.Devices.Camera.Capture(ctx, unlit)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errCamera, err)
	}
	return ctx.Err()
}

// zeroFrames wipes every raw frame and the palm region.
func (k *Kiosk) zeroFrames() {
	for _, p := range k.burst {
		clear(p.Lit.Pix)
		clear(p.Unlit.Pix)
	}
	clear(k.palm.Pix)
}

// probeCamera captures one unlit frame to check the camera works, and wipes it.
func (k *Kiosk) probeCamera(ctx context.Context) error {
	f := k.burst[0].Unlit
	defer clear(f.Pix)
	if err := k.o.Devices.Camera.Capture(ctx, f); err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errCamera, err)
	}
	return nil
}

// cameraDown shows "out of service", reports it, and waits until the camera
// delivers a frame again or ctx ends. (The Linux driver reopens the device
// with its own backoff; this only asks it for frames.)
func (k *Kiosk) cameraDown(ctx context.Context, err error) {
	k.cameraOK.Store(false)
	k.o.Log.Error("camera down", "err", err)
	k.emit(Event{Event: EvHealth, Reason: "camera_down"})
	k.show(screenOutOfService)
	for ctx.Err() == nil {
		err := k.probeCamera(ctx)
		if err == nil {
			k.cameraOK.Store(true)
			k.o.Log.Info("camera back")
			k.emit(Event{Event: EvHealth, Reason: "camera_up"})
			return
		}
		if !errors.Is(err, camera.ErrUnavailable) {
			k.o.Log.Warn("camera", "err", err)
		}
		sleep(ctx, backoffCamera)
	}
}
