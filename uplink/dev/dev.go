package dev

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/seal"
)

// Dev is an embedded NATS server with the reference cloud attached, fully
// provisioned in memory for one kiosk.
type Dev struct {
	// URL is the server's client URL (tls://127.0.0.1:port).
	URL string
	// SealKey and PaymentKey are the HPKE public keys to seal palm/phone
	// and card parts to (for seal.NewSealer).
	SealKey, PaymentKey []byte
	// SignKey verifies the cloud's decisions and commands (for uplink.Dial).
	SignKey ed25519.PublicKey
	// Device authenticates the kiosk (Device.Options() for uplink.Dial).
	Device Credentials
	// Cloud is the running reference cloud.
	Cloud *cloud.Cloud
	// Authority made every credential; it can make more (other kiosks).
	Authority *Authority

	srv  *server.Server
	nc   *nats.Conn
	once sync.Once
}

// ClientOptions returns the uplink options a kiosk needs to connect.
func (d *Dev) ClientOptions() []uplink.Option { return d.Device.Options() }

// Start runs an embedded NATS server on a random loopback port and the
// reference cloud in-process, and provisions deviceID. Nothing is written
// to disk. ctx only cancels the start; Close stops both, after the
// kiosk's client is closed so that it sees no disconnection.
func Start(ctx context.Context, deviceID string, log *slog.Logger) (*Dev, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	auth, err := NewAuthority()
	if err != nil {
		return nil, err
	}
	srv, err := RunServer(auth, server.RANDOM_PORT)
	if err != nil {
		return nil, err
	}
	d, err := attach(auth, srv, deviceID, log)
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	return d, nil
}

// RunServer starts an in-process NATS server trusting auth on port and
// waits until it accepts connections.
func RunServer(auth *Authority, port int) (*server.Server, error) {
	opts, err := auth.ServerOptions(port)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("dev: server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("dev: server did not start")
	}
	return srv, nil
}

func attach(auth *Authority, srv *server.Server, deviceID string, log *slog.Logger) (*Dev, error) {
	sealPub, sealPriv, err := seal.GenerateKey()
	if err != nil {
		return nil, err
	}
	payPub, payPriv, err := seal.GenerateKey()
	if err != nil {
		return nil, err
	}
	sealOpener, err := seal.NewOpener(sealPriv)
	if err != nil {
		return nil, err
	}
	payOpener, err := seal.NewOpener(payPriv)
	if err != nil {
		return nil, err
	}
	signPub, signPriv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	cl, err := cloud.New(cloud.Config{Seal: sealOpener, Payment: payOpener, SignKey: signPriv, Logger: log})
	if err != nil {
		return nil, err
	}
	device, err := auth.Device(deviceID)
	if err != nil {
		return nil, err
	}
	cloudCreds, err := auth.Cloud()
	if err != nil {
		return nil, err
	}
	url := srv.ClientURL()
	nc, err := nats.Connect(url, nats.Name("palmcloud dev"), nats.UserJWTAndSeed(cloudCreds.JWT, cloudCreds.Seed),
		nats.Secure(cloudCreds.TLS), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, fmt.Errorf("dev: cloud connect: %w", err)
	}
	if _, err := cl.Subscribe(nc); err != nil {
		nc.Close()
		return nil, err
	}
	return &Dev{
		URL: url, SealKey: sealPub, PaymentKey: payPub, SignKey: signPub, Device: device,
		Cloud: cl, Authority: auth, srv: srv, nc: nc,
	}, nil
}

// CloudConn is the reference cloud's own NATS connection (to send commands).
func (d *Dev) CloudConn() *nats.Conn { return d.nc }

// Close stops the cloud and the server.
func (d *Dev) Close() error {
	d.once.Do(func() {
		d.nc.Close()
		d.srv.Shutdown()
		d.srv.WaitForShutdown()
	})
	return nil
}
