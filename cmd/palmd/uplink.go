package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// cloudLink is palmd's way to the cloud: where it is, the keys that seal
// to it and verify it, and, once dialled, the client. It is the kiosk's
// firmware.Cloud.
type cloudLink struct {
	url        string
	signKey    ed25519.PublicKey
	opts       []uplink.Option
	palm, card *seal.Sealer
	// client is set once dialled; the event sinks read it from the start.
	client   atomic.Pointer[uplink.Client]
	embedded io.Closer // the simulation build's own server and cloud, if started
}

// resolveCloud reads the cloud's address and keys from cfg or, in the
// simulation build without a URL, starts the embedded server and reference
// cloud and takes them from it.
func resolveCloud(ctx context.Context, cfg config.Config, log *slog.Logger) (*cloudLink, error) {
	u := &cloudLink{url: cfg.Uplink.URL}
	var sealKey, payKey []byte
	if u.url == "" {
		if err := checkCloud(cfg); err != nil {
			return nil, usageError{err}
		}
		var err error
		if sealKey, payKey, err = startEmbeddedCloud(ctx, cfg, log, u); err != nil {
			return nil, err
		}
	} else {
		// config.Load has decoded and checked the keys.
		sealKey, payKey, u.signKey = cfg.Uplink.Keys.Seal, cfg.Uplink.Keys.Payment, cfg.Uplink.Keys.Sign
		if cfg.Uplink.Creds != "" {
			u.opts = append(u.opts, uplink.CredsFile(cfg.Uplink.Creds))
		}
		if cfg.Uplink.Cert != "" {
			u.opts = append(u.opts, uplink.TLSFiles(cfg.Uplink.CA, cfg.Uplink.Cert, cfg.Uplink.Key))
		}
	}
	var err error
	if u.palm, err = seal.NewSealer(sealKey); err != nil {
		return nil, u.closeWith(err)
	}
	if u.card, err = seal.NewSealer(payKey); err != nil {
		return nil, u.closeWith(err)
	}
	return u, nil
}

// dial connects; the uplink pushes the connection's health and verified
// commands to the kiosk.
func (u *cloudLink) dial(device string, log *slog.Logger, health func(bool), command func(wire.Command), extra ...uplink.Option) error {
	opts := append(append(slices.Clip(u.opts), extra...),
		uplink.Logger(log.With("component", "uplink")),
		uplink.OnHealth(func(h uplink.Health) { health(h.Connected) }),
		uplink.OnCommand(command),
	)
	c, err := uplink.Dial(u.url, device, u.signKey, opts...)
	if err != nil {
		return err
	}
	u.client.Store(c)
	health(c.Connected())
	return nil
}

// link is the NATS link as the console's status shows it.
func (u *cloudLink) link() console.Link {
	c := u.client.Load()
	if c == nil || !c.Connected() {
		return console.Link{}
	}
	l := console.Link{Connected: true}
	if rtt, err := c.RTT(); err == nil {
		l.RTTMS = float64(rtt.Microseconds()) / 1000
	}
	return l
}

// errNotProvisioned answers a kiosk that has no cloud yet.
var errNotProvisioned = errors.New("palmd: not provisioned: no cloud credentials")

// Do implements firmware.Cloud.
func (u *cloudLink) Do(ctx context.Context, req wire.Request) (wire.Decision, error) {
	c := u.client.Load()
	if c == nil {
		return wire.Decision{}, errNotProvisioned
	}
	return c.Do(ctx, req)
}

// sealer is s, or, on a kiosk not provisioned (no keys), one that refuses.
func (u *cloudLink) sealer(s *seal.Sealer) firmware.Sealer {
	if s == nil {
		return refuseSealer{}
	}
	return s
}

// refuseSealer seals nothing: there is no key to seal to.
type refuseSealer struct{}

func (refuseSealer) Seal(seal.Context, []byte) ([]byte, error) { return nil, errNotProvisioned }

func (u *cloudLink) closeWith(err error) error { return errors.Join(err, u.Close()) }

// Close disconnects and stops the embedded server, if any.
func (u *cloudLink) Close() error {
	var errs []error
	if c := u.client.Load(); c != nil {
		errs = append(errs, c.Close())
	}
	if u.embedded != nil {
		errs = append(errs, u.embedded.Close())
	}
	return errors.Join(errs...)
}

// telemetry returns the event sink that publishes the kiosk's events (all
// but screen changes) as telemetry.
func (u *cloudLink) telemetry(device string, log *slog.Logger) func(bus.Event) {
	return func(ev bus.Event) {
		c := u.client.Load()
		if ev.Event == bus.Screen || c == nil {
			return
		}
		err := c.Telemetry(context.Background(), wire.Event{
			Time: ev.Time, Device: device, Type: ev.Event,
			Flow: wire.Flow(ev.Flow), Outcome: wire.Outcome(ev.Outcome), Reason: ev.Reason,
		})
		if err != nil {
			log.Debug("telemetry not sent", "event", ev.Event, "err", err)
		}
	}
}

// Bundle implements bundleSource.
func (u *cloudLink) Bundle(ctx context.Context, w wire.Update) (io.ReadCloser, error) {
	c := u.client.Load()
	if c == nil {
		return nil, errNotProvisioned
	}
	return c.Bundle(ctx, w)
}

// uplinkOptions are the client options palmd's state adds: the sealed
// command sequence.
func (s *deviceState) uplinkOptions() []uplink.Option {
	if s == nil {
		return nil
	}
	return []uplink.Option{uplink.CommandSequence(s.seq)}
}

// commands routes the cloud's verified commands: updates to the update
// driver, signed config to applyConfig; the kiosk hears of every one (a
// "command" event).
type commands struct {
	kiosk   *firmware.Kiosk
	up      *cloudLink
	updates *updateDriver // nil without update.dir
	configs *configApplier
	emit    func(bus.Event)
	log     *slog.Logger
	ctx     context.Context
	running *sync.WaitGroup
}

func (c commands) handle(cmd wire.Command) {
	if c.ctx.Err() != nil {
		return // palmd is stopping: the command is lost, as in a crash
	}
	c.kiosk.Command(cmd)
	switch cmd.Type {
	case wire.CmdUpdate:
		if c.updates == nil {
			c.log.Warn("update refused: no update.dir")
			c.emit(bus.Event{Event: evUpdate, Reason: "refused:no_state"})
			return
		}
		c.updates.start(c.ctx, *cmd.Update, c.up, c.running)
	case wire.CmdConfig:
		c.configs.apply(cmd.Config) // logs and reports its outcome itself
	}
}
