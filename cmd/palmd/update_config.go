package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/secureboot"
)

// liveLevel is palmd's log handler: its minimum level is a LevelVar, so a
// signed config changes it while palmd runs.
type liveLevel struct {
	slog.Handler
	level *slog.LevelVar
}

func (h liveLevel) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h liveLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return liveLevel{h.Handler.WithAttrs(as), h.level}
}

func (h liveLevel) WithGroup(name string) slog.Handler {
	return liveLevel{h.Handler.WithGroup(name), h.level}
}

// configApplier takes a signed config document from the cloud: verified
// against the release keys and the config minimum (the updater's
// AcceptConfig, which raises the minimum), checked by config.Parse, the
// validation palmd runs at start, and refused if it names another kiosk
// or would leave this one unprovisioned. It is saved over palmd's config
// file (the envelope beside the state); the log level and the console's
// technicians apply at once, the rest at the next start. Each
// outcome is a "config" event, which telemetry carries to the cloud.
type configApplier struct {
	updates *updateDriver
	level   *slog.LevelVar // nil: the log level needs a restart too
	console keySetter      // nil: no console served
	emit    func(bus.Event)
	log     *slog.Logger

	mu      sync.Mutex
	running config.Config
}

// keySetter takes the technicians a new config allows (*console.Server).
type keySetter interface{ SetKeys([]console.Key) }

// errConfigRefused is a signed config palmd will not take.
var errConfigRefused = errors.New("config refused")

// apply takes one signed config document.
func (a *configApplier) apply(signed []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	refuse := func(why string, err error) error {
		a.log.Warn("signed config refused", "reason", why, "err", err)
		a.emit(bus.Event{Event: evConfig, Reason: "refused:" + why})
		return err
	}
	if a.updates == nil {
		return refuse("no_state", fmt.Errorf("%w: no update.dir", errConfigRefused))
	}
	if len(a.updates.state.keys) == 0 {
		return refuse("no_keys", fmt.Errorf("%w: no trusted keys (update.keys)", errConfigRefused))
	}
	var next config.Config
	check := func(b []byte) error {
		c, err := config.Parse(b)
		if err != nil {
			return err
		}
		if c.DeviceID != a.running.DeviceID {
			return fmt.Errorf("%w: device_id %q, this kiosk is %q", errConfigRefused, c.DeviceID, a.running.DeviceID)
		}
		if miss := c.Missing(); len(miss) > 0 {
			return fmt.Errorf("%w: it would leave the kiosk unprovisioned (missing %v)", errConfigRefused, miss)
		}
		next = c
		return nil
	}
	m, payload, err := a.updates.updater().AcceptConfig(bytes.NewReader(signed), check)
	if err != nil {
		why := installReason(err)
		if errors.Is(err, errConfigRefused) {
			why = "not_for_this_kiosk"
		} else if why == "error" {
			why = "invalid"
		}
		return refuse(why, err)
	}
	next.Path = a.running.Path
	live := a.level != nil
	if live {
		a.level.Set(next.LogLevel)
	}
	if a.console != nil {
		a.console.SetKeys(consoleKeys(next.Console))
	}
	restart := !sameExceptLive(a.running, next, live)
	if a.running.Path != "" {
		if err := secureboot.WriteFileAtomic(a.running.Path, payload); err != nil {
			return refuse("not_saved", fmt.Errorf("saving %s: %w", a.running.Path, err))
		}
		if err := secureboot.WriteFileAtomic(filepath.Join(a.updates.state.cfg.Dir, "config.signed"), signed); err != nil {
			a.log.Warn("signed config not kept beside the state", "err", err)
		}
	}
	if restart && a.running.Path == "" {
		a.log.Warn("signed config accepted, but palmd runs without a config file: the rest applies to nobody")
	}
	how := "applied"
	if restart {
		how = "saved"
	}
	a.running = next
	a.log.Info("signed config "+how, "version", m.Version, "release", m.Release, "restart_needed", restart)
	a.emit(bus.Event{Event: evConfig, Reason: fmt.Sprintf("%s:%d", how, m.Version)})
	return nil
}

// sameExceptLive reports whether a and b differ only in what applies while
// palmd runs (the log level, when live, and the console's technicians).
func sameExceptLive(a, b config.Config, live bool) bool {
	if live {
		a.LogLevel = b.LogLevel
	}
	a.Console = b.Console
	a.Uplink.Keys, b.Uplink.Keys = config.Keys{}, config.Keys{}
	return reflect.DeepEqual(a, b)
}
