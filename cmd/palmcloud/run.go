package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// Key files written by keygen and read by serve, each one base64 line.
const (
	sealKeyFile    = "seal.key"    // HPKE private key for palm and phone parts
	paymentKeyFile = "payment.key" // HPKE private key for card parts
	signKeyFile    = "sign.key"    // Ed25519 seed that signs decisions and commands
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  palmcloud keygen [-dir DIR]
  palmcloud serve -url URL[,URL...] [-creds FILE] [-ca FILE -cert FILE -key FILE] [-keys DIR] [-replicas N] [-memory] [-workers N]
  palmcloud publish -url URL [connection flags] [-keys DIR] -bundle FILE -trusted FILE [-product P] [-name N] [-device ID]...
  palmcloud callout -url URL[,URL...] -creds FILE -ca FILE -cert FILE -key FILE -account FILE -signer FILE [-xkey FILE]
  palmcloud -version
  palmcloud -h

serve runs one instance of the reference cloud; run several (same keys, same
cluster) and they share the requests in the queue group "palmcloud".
Enrolments live in the JetStream bucket palm_enrol, sealed; commands for
kiosks wait in the stream PALM_CMD. publish verifies a signed firmware
bundle against the release keys kiosks trust, stores it in the object store
palm_bundles and queues an update command naming it for each -device.
callout is the region's auth callout service: it lets a client in only if
its TLS certificate names the nkey of the user JWT it presents (run several,
they share the requests in the queue group "palmcloud-callout").
Run "palmcloud COMMAND -h" for a command's flags.`

// errHelp is returned for -h: usage was printed, exit 0.
var errHelp = flag.ErrHelp

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return errHelp
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "palmcloud", version)
		return nil
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "publish":
		return publish(ctx, args[1:], stdout, stderr)
	case "callout":
		return runCallout(ctx, args[1:], stderr)
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

// kioskKeys is the "uplink" part of palmd's configuration that keygen prints.
type kioskKeys struct {
	SealKey    string `json:"seal_key"`
	PaymentKey string `json:"payment_key"`
	SignKey    string `json:"sign_key"`
}

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "directory for the private key files (must not hold keys already)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sealPub, sealPriv, err := seal.GenerateKey()
	if err != nil {
		return err
	}
	payPub, payPriv, err := seal.GenerateKey()
	if err != nil {
		return err
	}
	signPub, signPriv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	for name, key := range map[string][]byte{sealKeyFile: sealPriv, paymentKeyFile: payPriv, signKeyFile: signPriv.Seed()} {
		if err := writeKey(filepath.Join(*dir, name), key); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(kioskKeys{
		SealKey:    base64.StdEncoding.EncodeToString(sealPub),
		PaymentKey: base64.StdEncoding.EncodeToString(payPub),
		SignKey:    base64.StdEncoding.EncodeToString(signPub),
	})
}

// writeKey writes a private key, readable by the owner only, never over an
// existing file.
func writeKey(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, base64.StdEncoding.EncodeToString(key))
	return errors.Join(err, f.Close())
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// conn is the NATS connection flags serve, publish and callout share
// (keys: serve and publish only).
type conn struct{ url, creds, ca, cert, key, keys string }

func (c *conn) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", "", "NATS server URL (required)")
	fs.StringVar(&c.creds, "creds", "", "NATS credentials file of the user to connect as (the cloud's; for callout, the service's)")
	fs.StringVar(&c.ca, "ca", "", "PEM file of the server's CA (TLS)")
	fs.StringVar(&c.cert, "cert", "", "PEM client certificate (mutual TLS)")
	fs.StringVar(&c.key, "key", "", "PEM client key (mutual TLS)")
}

func (c *conn) registerKeys(fs *flag.FlagSet) {
	fs.StringVar(&c.keys, "keys", ".", "directory of the key files written by keygen")
}

// cloud reads the key files and returns the cloud they make.
func (c *conn) cloud(cfg cloud.Config) (*cloud.Cloud, error) {
	for _, k := range []struct {
		file string
		set  func([]byte) error
	}{
		{sealKeyFile, func(b []byte) (err error) { cfg.Seal, err = seal.NewOpener(b); return err }},
		{paymentKeyFile, func(b []byte) (err error) { cfg.Payment, err = seal.NewOpener(b); return err }},
		{signKeyFile, func(b []byte) error {
			if len(b) != ed25519.SeedSize {
				return errors.New("signing key is not a 32-byte seed")
			}
			cfg.SignKey = ed25519.NewKeyFromSeed(b)
			return nil
		}},
	} {
		b, err := readKey(filepath.Join(c.keys, k.file))
		if err != nil {
			return nil, err
		}
		err = k.set(b)
		clear(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.file, err)
		}
	}
	return cloud.New(cfg)
}

// connect dials the servers; closed is closed once the connection is.
func (c *conn) connect(log *slog.Logger) (nc *nats.Conn, closed chan struct{}, err error) {
	closed = make(chan struct{})
	opts := []nats.Option{
		nats.Name("palmcloud"),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: the connection was closed on purpose
				log.Warn("palmcloud: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("palmcloud: reconnected") }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Error("palmcloud: async error", "err", err) }),
	}
	if c.creds != "" {
		opts = append(opts, nats.UserCredentials(c.creds))
	}
	if c.ca != "" {
		opts = append(opts, nats.RootCAs(c.ca))
	}
	if c.cert != "" || c.key != "" {
		opts = append(opts, nats.ClientCert(c.cert, c.key))
	}
	nc, err = nats.Connect(c.url, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	return nc, closed, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.register(fs)
	c.registerKeys(fs)
	replicas := fs.Int("replicas", 1, "JetStream replicas of the buckets and stream (3 in a region's cluster)")
	memory := fs.Bool("memory", false, "keep the buckets and stream in memory (lost when the servers stop)")
	workers := fs.Int("workers", 16, "requests answered at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *replicas < 1 || *replicas > 5 {
		return fmt.Errorf("serve: -replicas %d: want 1 to 5", *replicas)
	}
	if *workers < 1 {
		return fmt.Errorf("serve: -workers %d: want at least 1", *workers)
	}
	if c.url == "" {
		return errors.New("serve: -url is required")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cl, err := c.cloud(cloud.Config{Logger: log, Workers: *workers})
	if err != nil {
		return err
	}
	nc, closed, err := c.connect(log)
	if err != nil {
		return err
	}
	defer nc.Close()
	// Loading waits for JetStream, but not forever.
	octx, cancel := context.WithTimeout(ctx, time.Minute)
	err = cl.Open(octx, nc, cloud.StoreOptions{Replicas: *replicas, Memory: *memory})
	cancel()
	if err != nil {
		return err
	}
	defer cl.Close()
	sub, err := cl.Subscribe(nc)
	if err != nil {
		return err
	}
	bundles, err := cloud.ServeBundles(nc, log)
	if err != nil {
		return err
	}
	log.Info("palmcloud: serving", "url", nc.ConnectedUrlRedacted(), "version", version)
	<-ctx.Done()
	log.Info("palmcloud: stopping", "enrolled", cl.Enrolled())
	// Stop taking requests, answer those received, then close.
	if err := bundles.Drain(); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	if err := sub.Drain(); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	for sub.IsValid() || bundles.IsValid() {
		time.Sleep(10 * time.Millisecond)
	}
	cl.Wait()
	bundles.Wait()
	if err := nc.Drain(); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	<-closed
	return nil
}

// publish verifies a signed bundle and stores it in the bundle bucket, then
// queues an update command naming it for each -device.
func publish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.register(fs)
	c.registerKeys(fs)
	bundle := fs.String("bundle", "", "the signed bundle `file` (fwsign bundle) (required)")
	trusted := fs.String("trusted", "", "PEM `file` of the release keys kiosks trust (fwsign keygen's .pub) (required)")
	product := fs.String("product", "palmkiosk", "the product the bundle must name")
	name := fs.String("name", "", "object name in the bucket (default: the file's name)")
	replicas := fs.Int("replicas", 1, "JetStream replicas of the bucket")
	memory := fs.Bool("memory", false, "keep the bucket in memory")
	var devices []string
	fs.Func("device", "send the update to kiosk `id` (repeatable)", func(s string) error {
		if !wire.ValidDevice(s) {
			return fmt.Errorf("invalid device id %q", s)
		}
		devices = append(devices, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.url == "" || *bundle == "" || *trusted == "" {
		return errors.New("publish: -url, -bundle and -trusted are required")
	}
	if *name == "" {
		*name = filepath.Base(*bundle)
	}
	pem, err := os.ReadFile(*trusted)
	if err != nil {
		return err
	}
	keys, err := secureboot.ParsePublicKeys(pem)
	if err != nil {
		return fmt.Errorf("%s: %w", *trusted, err)
	}
	f, err := os.Open(*bundle)
	if err != nil {
		return err
	}
	defer f.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cl, err := c.cloud(cloud.Config{Logger: log})
	if err != nil {
		return err
	}
	nc, _, err := c.connect(log)
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	store := cloud.StoreOptions{Replicas: *replicas, Memory: *memory}
	u, err := cloud.PublishBundle(ctx, nc, store, secureboot.Policy{Keys: keys, Product: *product}, *name, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s: version %d (%s), %d bytes, sha256 %s\n", u.Object, u.Version, u.Release, u.Size, u.SHA256)
	if len(devices) == 0 {
		return nil
	}
	if err := cl.Open(ctx, nc, store); err != nil {
		return err
	}
	defer cl.Close()
	for _, d := range devices {
		if err := cl.Send(nc, d, wire.Command{Type: wire.CmdUpdate, Update: &u}); err != nil {
			return fmt.Errorf("update for %s: %w", d, err)
		}
		fmt.Fprintf(stdout, "update queued for %s\n", d)
	}
	return nil
}
