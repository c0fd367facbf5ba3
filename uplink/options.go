package uplink

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink/wire"
)

// Health is the connection state reported to the OnHealth callback.
type Health struct {
	Connected bool
	// State is "connected", "reconnected", "disconnected" or "closed".
	State string
}

// Options configure a Client. Start from DefaultOptions; Dial applies
// Option functions on top.
type Options struct {
	Logger    *slog.Logger
	OnHealth  func(Health)
	OnCommand func(wire.Command)
	// Now is the clock used for expiry checks and events.
	Now func() time.Time
	// ReconnectWait and ReconnectJitter pace reconnection attempts, which
	// never stop until Close.
	ReconnectWait   time.Duration
	ReconnectJitter time.Duration
	// MaxSkew is how far in the future a statement's issue time may be.
	MaxSkew time.Duration
	// MaxValidity is the longest validity window accepted in a decision.
	MaxValidity time.Duration
	// MaxCommandValidity is the longest validity window accepted in a
	// command: commands wait in a queue while the kiosk is offline.
	MaxCommandValidity time.Duration
	// ReplayCache bounds the nonces remembered. Each is kept until the
	// statement it came with can no longer be valid (MaxSkew+MaxValidity
	// after it was accepted); a full window refuses statements (ErrReplayed)
	// rather than forget a nonce early.
	ReplayCache int
	// Sequence keeps the last command sequence number accepted; nil
	// checks none (see CommandSequence).
	Sequence Sequence
	// NATS holds the authentication and TLS options.
	NATS []nats.Option
}

// Sequence is where a kiosk keeps the last command sequence number it
// accepted, durably (secureboot.FileSequence on a kiosk): Accept records
// seq if it is above the last and fails otherwise.
type Sequence interface {
	Accept(seq uint64) error
}

// Option changes Options.
type Option func(*Options) error

// DefaultOptions returns a fresh set of defaults.
func DefaultOptions() Options {
	return Options{
		Logger:             slog.New(slog.DiscardHandler),
		Now:                time.Now,
		ReconnectWait:      time.Second,
		ReconnectJitter:    500 * time.Millisecond,
		MaxSkew:            30 * time.Second,
		MaxValidity:        5 * time.Minute,
		MaxCommandValidity: 48 * time.Hour,
		ReplayCache:        1 << 16,
	}
}

// Logger sets the logger.
func Logger(l *slog.Logger) Option {
	return func(o *Options) error {
		if l == nil {
			return errors.New("uplink: nil logger")
		}
		o.Logger = l
		return nil
	}
}

// OnHealth sets the callback told about connection state changes.
func OnHealth(f func(Health)) Option {
	return func(o *Options) error { o.OnHealth = f; return nil }
}

// OnCommand sets the handler of verified cloud commands. Without one the
// client does not subscribe to commands.
func OnCommand(f func(wire.Command)) Option {
	return func(o *Options) error { o.OnCommand = f; return nil }
}

// CommandSequence makes the client refuse a command whose sequence number
// is not above the last one s accepted (ErrReplayed): nonces are forgotten
// at a restart, the sequence is not.
func CommandSequence(s Sequence) Option {
	return func(o *Options) error {
		if s == nil {
			return errors.New("uplink: nil command sequence")
		}
		o.Sequence = s
		return nil
	}
}

// Clock sets the clock.
func Clock(now func() time.Time) Option {
	return func(o *Options) error { o.Now = now; return nil }
}

// Reconnect sets the wait and jitter between reconnection attempts.
func Reconnect(wait, jitter time.Duration) Option {
	return func(o *Options) error {
		if wait <= 0 || jitter < 0 {
			return errors.New("uplink: reconnect wait must be positive")
		}
		o.ReconnectWait, o.ReconnectJitter = wait, jitter
		return nil
	}
}

// CredsFile authenticates with a NATS credentials file (user JWT and nkey seed).
func CredsFile(path string) Option {
	return func(o *Options) error { o.NATS = append(o.NATS, nats.UserCredentials(path)); return nil }
}

// UserJWT authenticates with an in-memory user JWT and nkey seed.
func UserJWT(jwt, seed string) Option {
	return func(o *Options) error { o.NATS = append(o.NATS, nats.UserJWTAndSeed(jwt, seed)); return nil }
}

// TLSFiles enables mutual TLS from PEM files: the server's CA and this
// device's certificate and key.
func TLSFiles(ca, cert, key string) Option {
	return func(o *Options) error {
		o.NATS = append(o.NATS, nats.RootCAs(ca), nats.ClientCert(cert, key))
		return nil
	}
}

// InProcess connects to srv, a NATS server running in this process,
// through an in-memory pipe instead of a socket (nats.InProcessServer). TLS
// and authentication are as over a socket; the URL given to Dial only
// names the server.
func InProcess(srv nats.InProcessConnProvider) Option {
	return func(o *Options) error {
		if srv == nil {
			return errors.New("uplink: nil in-process server")
		}
		o.NATS = append(o.NATS, nats.InProcessServer(srv))
		return nil
	}
}

// TLSConfig enables (mutual) TLS with an in-memory configuration.
func TLSConfig(c *tls.Config) Option {
	return func(o *Options) error { o.NATS = append(o.NATS, nats.Secure(c)); return nil }
}
