package uplink

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink/internal/replay"
	"github.com/palmd/palmd/uplink/wire"
)

// Client is one kiosk's connection to the cloud. It is safe for concurrent use.
type Client struct {
	nc      *nats.Conn
	device  string
	signKey ed25519.PublicKey
	opts    Options
	log     *slog.Logger
	seen    *replay.Window[struct{}] // nonces of accepted decisions
	cmds    *replay.Window[struct{}] // nonces of accepted commands
	cmdMu   sync.Mutex               // one command handled at a time
}

// Dial connects device to the NATS server at url. signKey is the cloud's
// Ed25519 public key that signs decisions and commands. Dial does not wait
// for the first connection: it keeps retrying in the background, and Do
// returns ErrNotConnected meanwhile.
func Dial(url, device string, signKey ed25519.PublicKey, opts ...Option) (*Client, error) {
	o := DefaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if len(signKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("uplink: sign key has %d bytes, want %d", len(signKey), ed25519.PublicKeySize)
	}
	if !wire.ValidDevice(device) {
		return nil, fmt.Errorf("uplink: invalid device id %q", device)
	}
	c := &Client{
		device:  device,
		signKey: signKey,
		opts:    o,
		log:     o.Logger.With("device", device),
		// A statement accepted now expires at most MaxSkew+MaxValidity
		// from now: its nonce must be remembered that long, and no longer.
		seen: replay.New[struct{}](o.MaxSkew+o.MaxValidity, o.ReplayCache),
		cmds: replay.New[struct{}](o.MaxSkew+o.MaxCommandValidity, o.ReplayCache),
	}
	nopts := append([]nats.Option{
		nats.Name("palmd " + device),
		nats.CustomInboxPrefix(wire.InboxPrefix(device)),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(o.ReconnectWait),
		nats.ReconnectJitter(o.ReconnectJitter, o.ReconnectJitter),
		nats.ConnectHandler(func(*nats.Conn) { c.health(true, "connected") }),
		nats.ReconnectHandler(func(*nats.Conn) { c.health(true, "reconnected") }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			// A nil error is our own Close: not worth a warning.
			if err != nil {
				c.log.Warn("uplink: disconnected", "err", err)
			}
			c.health(false, "disconnected")
		}),
		nats.ClosedHandler(func(*nats.Conn) { c.health(false, "closed") }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			c.log.Error("uplink: async error", "err", err)
		}),
	}, o.NATS...)
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return nil, fmt.Errorf("uplink: connect: %w", err)
	}
	c.nc = nc
	if o.OnCommand != nil {
		// Queued commands come on their own literal subject: JetStream
		// notices a push consumer's interest only from an exact
		// subscription. The wildcard one takes commands published
		// directly and leaves the queued ones to it; those carry their
		// stream's subject, not the delivery subject, so they are told
		// apart by their acknowledgement subject.
		queued := wire.CommandDeliverSubject(device)
		if _, err = nc.Subscribe(queued, c.onCommand); err == nil {
			_, err = nc.Subscribe(wire.CommandSubject(device, "*"), func(m *nats.Msg) {
				if !c.isQueued(m) {
					c.onCommand(m)
				}
			})
		}
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("uplink: subscribe commands: %w", err)
		}
	}
	return c, nil
}

// Connected reports whether the connection is up right now.
func (c *Client) Connected() bool { return c.nc.IsConnected() }

// RTT measures the round trip to the NATS server (a PING and its PONG).
func (c *Client) RTT() (time.Duration, error) {
	d, err := c.nc.RTT()
	if err != nil {
		return 0, fmt.Errorf("uplink: rtt: %w", err)
	}
	return d, nil
}

// Close closes the connection; requests in flight fail. A command being
// handled is finished and acknowledged first, so it does not come again
// (OnCommand must not call Close).
func (c *Client) Close() error {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	c.nc.Close()
	return nil
}

func (c *Client) health(up bool, state string) {
	if up {
		c.log.Info("uplink: " + state)
	}
	if c.opts.OnHealth != nil {
		c.opts.OnHealth(Health{Connected: up, State: state})
	}
}

// Do sends req and returns the cloud's verified decision. The decision must
// be signed by the cloud key, name this device and this request, be within
// its validity window and carry a nonce not seen before; otherwise Do
// returns ErrBadSignature, ErrWrongDevice, ErrWrongRequest, ErrExpired or
// ErrReplayed, logs the rejection and reports it as telemetry.
func (c *Client) Do(ctx context.Context, req wire.Request) (wire.Decision, error) {
	if req.Device == "" {
		req.Device = c.device
	}
	if req.Device != c.device {
		return wire.Decision{}, fmt.Errorf("%w: request for %q", ErrWrongDevice, req.Device)
	}
	data, err := wire.EncodeRequest(req)
	if err != nil {
		return wire.Decision{}, fmt.Errorf("uplink: %w", err)
	}
	if !c.nc.IsConnected() {
		return wire.Decision{}, ErrNotConnected
	}
	msg, err := c.nc.RequestWithContext(ctx, wire.RequestSubject(c.device, req.Flow), data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return wire.Decision{}, ErrNoCloud
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionReconnecting):
		return wire.Decision{}, ErrNotConnected
	case err != nil:
		return wire.Decision{}, fmt.Errorf("uplink: request: %w", err)
	}
	st, err := c.verify(msg.Data, wire.KindDecision)
	if err == nil && st.Decision.Request != req.ID {
		err = ErrWrongRequest
	}
	if err != nil {
		c.reject(ctx, "decision", req.Flow, err)
		return wire.Decision{}, err
	}
	return *st.Decision, nil
}

// Telemetry publishes e, filling in the device and time if unset.
func (c *Client) Telemetry(_ context.Context, e wire.Event) error {
	if e.Device == "" {
		e.Device = c.device
	}
	if e.Time.IsZero() {
		e.Time = c.opts.Now()
	}
	data, err := wire.EncodeEvent(e)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	if err := c.nc.Publish(wire.TelemetrySubject(c.device, e.Type), data); err != nil {
		return fmt.Errorf("uplink: telemetry: %w", err)
	}
	return nil
}

// onCommand handles a command published to this kiosk, or delivered from
// its JetStream queue (commands sent while it was offline). A queued
// command is acknowledged once handled, or refused, so that it is not
// delivered again; a redelivery of a command already handled (its
// acknowledgement was lost) is acknowledged again and not handled twice.
// Commands are handled one at a time, in the order they come.
func (c *Client) onCommand(m *nats.Msg) {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	queued := c.isQueued(m)
	defer func() {
		if queued {
			// Confirmed by the server before the next command is handled,
			// so that a Close right after does not lose it (the command
			// would come again to a client that no longer knows its nonce).
			if err := m.AckSync(nats.AckWait(5 * time.Second)); err != nil {
				c.log.Warn("uplink: command not acknowledged", "err", err)
			}
		}
	}()
	st, err := c.verify(m.Data, wire.KindCommand)
	if err != nil {
		if meta, merr := m.Metadata(); queued && merr == nil && meta.NumDelivered > 1 && errors.Is(err, ErrReplayed) {
			c.log.Info("uplink: queued command delivered again, already handled")
			return
		}
		c.reject(context.Background(), "command", "", err)
		return
	}
	c.log.Info("uplink: command", "type", st.Command.Type, "queued", queued)
	c.opts.OnCommand(*st.Command)
}

// isQueued reports whether m came from the device's JetStream command queue.
func (c *Client) isQueued(m *nats.Msg) bool {
	return strings.HasPrefix(m.Reply, wire.CommandAckPrefix(c.device)+".")
}

// verify checks signature, kind, device, validity window, nonce and, for a
// command, its sequence number.
// Commands may wait in a queue for an offline kiosk, so they may be valid
// for longer (MaxCommandValidity) than decisions (MaxValidity).
func (c *Client) verify(data []byte, kind wire.Kind) (wire.Statement, error) {
	st, err := wire.Verify(c.signKey, data)
	switch {
	case errors.Is(err, wire.ErrBadSignature):
		return st, ErrBadSignature
	case err != nil:
		return st, fmt.Errorf("%w: %w", ErrMalformed, err)
	case st.Kind != kind:
		return st, fmt.Errorf("%w: kind %s", ErrMalformed, st.Kind)
	case st.Device != c.device:
		return st, ErrWrongDevice
	}
	now := c.opts.Now()
	validity, seen := c.opts.MaxValidity, c.seen
	if kind == wire.KindCommand {
		validity, seen = c.opts.MaxCommandValidity, c.cmds
	}
	if st.IssuedAt.After(now.Add(c.opts.MaxSkew)) || !now.Before(st.Expires) ||
		st.Expires.Sub(st.IssuedAt) > validity {
		return st, ErrExpired
	}
	if _, fresh, err := seen.Add(st.Nonce, struct{}{}, now); err != nil {
		return st, fmt.Errorf("%w: %w", ErrReplayed, err)
	} else if !fresh {
		return st, ErrReplayed
	}
	if kind == wire.KindCommand && c.opts.Sequence != nil {
		// Durable before the command is handled: a crash after this loses
		// the command rather than running it twice.
		if err := c.opts.Sequence.Accept(st.Command.Seq); err != nil {
			return st, fmt.Errorf("%w: sequence: %w", ErrReplayed, err)
		}
	}
	return st, nil
}

// reject logs a refused cloud message and reports it as telemetry.
func (c *Client) reject(ctx context.Context, what string, f wire.Flow, err error) {
	reason := reasonOf(err)
	c.log.Warn("uplink: rejected "+what, "reason", reason, "err", err)
	ev := wire.Event{Type: "uplink_rejected", Flow: f, Reason: what + ":" + reason}
	if terr := c.Telemetry(ctx, ev); terr != nil {
		c.log.Warn("uplink: telemetry of rejection failed", "err", terr)
	}
}

func reasonOf(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{ErrBadSignature, "bad_signature"},
		{ErrExpired, "expired"},
		{ErrReplayed, "replayed"},
		{ErrWrongDevice, "wrong_device"},
		{ErrWrongRequest, "wrong_request"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "malformed"
}
