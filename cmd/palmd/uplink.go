package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// uplinkConn is palmd's way to the cloud: the client, the sealers for the
// cloud's and the payment side's keys, and, with no URL configured, the
// embedded NATS server and reference cloud.
type uplinkConn struct {
	client     *uplink.Client
	dev        *dev.Dev // nil when the config names a server
	palm, card *seal.Sealer
}

// connectUplink dials the configured NATS server, or starts the embedded
// one with the reference cloud when no URL is configured.
func connectUplink(ctx context.Context, cfg config.Config, log *slog.Logger) (*uplinkConn, error) {
	u := &uplinkConn{}
	url := cfg.Uplink.URL
	var sealKey, payKey []byte
	var signKey ed25519.PublicKey
	var opts []uplink.Option
	if url == "" {
		d, err := dev.Start(ctx, cfg.DeviceID, log.With("component", "devcloud"))
		if err != nil {
			return nil, fmt.Errorf("starting the embedded NATS server and reference cloud: %w", err)
		}
		log.Info("embedded NATS server and reference cloud started", "url", d.URL)
		u.dev = d
		url, sealKey, payKey, signKey, opts = d.URL, d.SealKey, d.PaymentKey, d.SignKey, d.ClientOptions()
	} else {
		var err error
		if sealKey, err = key(cfg.Uplink.SealKey, "uplink.seal_key"); err != nil {
			return nil, err
		}
		if payKey, err = key(cfg.Uplink.PaymentKey, "uplink.payment_key"); err != nil {
			return nil, err
		}
		var sk []byte
		if sk, err = key(cfg.Uplink.SignKey, "uplink.sign_key"); err != nil {
			return nil, err
		}
		signKey = ed25519.PublicKey(sk)
		if cfg.Uplink.Creds != "" {
			opts = append(opts, uplink.CredsFile(cfg.Uplink.Creds))
		}
		if cfg.Uplink.Cert != "" {
			opts = append(opts, uplink.TLSFiles(cfg.Uplink.CA, cfg.Uplink.Cert, cfg.Uplink.Key))
		}
	}
	opts = append(opts,
		uplink.Logger(log.With("component", "uplink")),
		uplink.OnCommand(func(c wire.Command) { log.Info("cloud command", "type", c.Type) }),
	)
	var err error
	if u.palm, err = seal.NewSealer(sealKey); err != nil {
		return nil, u.closeWith(err)
	}
	if u.card, err = seal.NewSealer(payKey); err != nil {
		return nil, u.closeWith(err)
	}
	if u.client, err = uplink.Dial(url, cfg.DeviceID, signKey, opts...); err != nil {
		return nil, u.closeWith(err)
	}
	return u, nil
}

func key(b64, field string) ([]byte, error) {
	if b64 == "" {
		return nil, usageError{fmt.Errorf("config: %s: required when uplink.url is set", field)}
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, usageError{fmt.Errorf("config: %s: %w", field, err)}
	}
	return b, nil
}

func (u *uplinkConn) closeWith(err error) error { return errors.Join(err, u.Close()) }

// Close disconnects and stops the embedded server, if any.
func (u *uplinkConn) Close() error {
	var errs []error
	if u.client != nil {
		errs = append(errs, u.client.Close())
	}
	if u.dev != nil {
		errs = append(errs, u.dev.Close())
	}
	return errors.Join(errs...)
}

// telemetry returns the event sink that publishes the kiosk's events (all
// but screen changes) as telemetry.
func (u *uplinkConn) telemetry(device string, log *slog.Logger) func(firmware.Event) {
	return func(ev firmware.Event) {
		if ev.Event == firmware.EvScreen {
			return
		}
		err := u.client.Telemetry(context.Background(), wire.Event{
			Time: ev.Time, Device: device, Type: ev.Event,
			Flow: wire.Flow(ev.Flow), Outcome: wire.Outcome(ev.Outcome), Reason: ev.Reason,
		})
		if err != nil {
			log.Debug("telemetry not sent", "event", ev.Event, "err", err)
		}
	}
}
