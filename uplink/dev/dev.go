package dev

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"sync"

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

	srv       *server.Server
	nc        *nats.Conn
	bundles   *cloud.Bundles
	storeDir  string
	inProcess bool // ClientOptions connect through a pipe (StartInProcess)
	once      sync.Once
}

// ClientOptions returns the uplink options the kiosk d was started for
// needs to connect.
func (d *Dev) ClientOptions() []uplink.Option { return d.KioskOptions(d.Device) }

// KioskOptions returns the uplink options a kiosk with creds (from
// d.Authority) needs to connect to d's server.
func (d *Dev) KioskOptions(creds Credentials) []uplink.Option {
	if d.inProcess {
		return append(creds.Options(), uplink.InProcess(d.srv))
	}
	return creds.Options()
}

// Start runs an embedded NATS server on a random loopback port and the
// reference cloud in-process, and provisions deviceID. Nothing is written
// to disk. ctx only cancels the start; Close stops both, after the
// kiosk's client is closed so that it sees no disconnection.
func Start(ctx context.Context, deviceID string, log *slog.Logger) (*Dev, error) {
	return start(ctx, deviceID, log, false)
}

// StartInProcess is Start without a socket: the server listens on no
// port, and the cloud and ClientOptions connect to it through in-memory
// pipes (uplink.InProcess), with the same TLS and credentials. Only this
// process reaches it. A kiosk on it blocks on nothing but channels and
// timers, so a test can run both in a testing/synctest bubble, where the
// clock moves only when every goroutine waits (a socket read never counts
// as waiting). URL names the server in logs; nothing listens there. Such
// a test runs in devtest.Bubble, which makes NATS's process-wide state
// safe for a bubble.
func StartInProcess(ctx context.Context, deviceID string, log *slog.Logger) (*Dev, error) {
	return start(ctx, deviceID, log, true)
}

func start(ctx context.Context, deviceID string, log *slog.Logger, inProcess bool) (*Dev, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	auth, err := NewAuthority()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "palmd-jetstream-")
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	opts, err := serverOptions(auth, server.RANDOM_PORT, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if inProcess {
		// ClientURL must still parse: name the default port.
		opts.DontListen, opts.Port = true, server.DEFAULT_PORT
	}
	srv, err := StartServer(opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d, err := attach(ctx, auth, srv, deviceID, log, inProcess)
	if err != nil {
		srv.Shutdown()
		os.RemoveAll(dir)
		return nil, err
	}
	d.storeDir = dir
	return d, nil
}

// RunServer starts an in-process NATS server trusting auth on port, with
// JetStream for memory streams only, and waits until it accepts
// connections. JetStream still needs a store directory: storeDir (it
// stays empty while every stream is in memory).
func RunServer(auth *Authority, port int, storeDir string) (*server.Server, error) {
	opts, err := serverOptions(auth, port, storeDir)
	if err != nil {
		return nil, err
	}
	return StartServer(opts)
}

func serverOptions(auth *Authority, port int, storeDir string) (*server.Options, error) {
	opts, err := auth.ServerOptions(port)
	if err != nil {
		return nil, err
	}
	opts.JetStream = true
	opts.StoreDir = storeDir
	opts.JetStreamMaxMemory = 256 << 20
	return opts, nil
}

func attach(ctx context.Context, auth *Authority, srv *server.Server, deviceID string, log *slog.Logger, inProcess bool) (*Dev, error) {
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
	nopts := []nats.Option{nats.Name("palmcloud dev"), nats.UserJWTAndSeed(cloudCreds.JWT, cloudCreds.Seed),
		nats.Secure(cloudCreds.TLS), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}
	if inProcess {
		nopts = append(nopts, nats.InProcessServer(srv))
	}
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return nil, fmt.Errorf("dev: cloud connect: %w", err)
	}
	if err := cl.Open(ctx, nc, cloud.StoreOptions{Memory: true}); err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := cl.Subscribe(nc); err != nil {
		cl.Close()
		nc.Close()
		return nil, err
	}
	bundles, err := cloud.ServeBundles(nc, log)
	if err != nil {
		cl.Close()
		nc.Close()
		return nil, err
	}
	return &Dev{
		URL: url, SealKey: sealPub, PaymentKey: payPub, SignKey: signPub, Device: device,
		Cloud: cl, Authority: auth, srv: srv, nc: nc, bundles: bundles, inProcess: inProcess,
	}, nil
}

// CloudConn is the reference cloud's own NATS connection (to send commands).
func (d *Dev) CloudConn() *nats.Conn { return d.nc }

// Close stops the cloud and the server.
func (d *Dev) Close() error {
	var err error
	d.once.Do(func() {
		d.nc.Close()
		d.Cloud.Wait()
		d.bundles.Wait()
		d.Cloud.Close()
		d.srv.Shutdown()
		d.srv.WaitForShutdown()
		err = os.RemoveAll(d.storeDir)
	})
	return err
}
