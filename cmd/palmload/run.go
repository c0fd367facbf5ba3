package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	kioskconfig "github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  palmload [-kiosks N] [-interval D] [-duration D] [-enrolled N] [-people N]
           [-nodes N] [-clouds N] [-workers N] [-kill-node] [-timeout D]
           [-seed N] [-json]
  palmload -bundle MIB [-kiosks N] [-duration D] [-nodes N] [-clouds N]
           [-kill-node] [-seed N] [-json]
  palmload -url URL[,URL...] -issuer DIR -kiosk-keys FILE [-kiosks N] [-interval D]
           [-duration D] [-enrolled N] [-people N] [-timeout D] [-seed N] [-json]
  palmload -serve DIR [-nodes N] [-clouds N] [-workers N]
  palmload -version
  palmload -h

Starts a NATS cluster with JetStream and reference-cloud instances in this
process, enrols -enrolled people, and has -kiosks kiosks each send one
identification every -interval (open loop) for -duration. The last line of
standard output is one JSON object with the figures.

With -url it starts nothing and loads the region at URL instead. Its kiosks
are minted from the region's issuer files in -issuer, as an operator holds
them: account.nk (the PALM account's nkey seed, SA..., which signs each
kiosk's user JWT), fleet-ca.pem and fleet-ca-key.pem (the fleet CA's
certificate and PKCS #8 key, which issue each kiosk's client certificate
naming its nkey) and server-ca.pem (verifies the servers). -kiosk-keys is
the cloud's public keys as a kiosk gets them: the JSON "palmcloud keygen"
prints (seal_key, payment_key, sign_key; the uplink section of a kiosk's
palmd config also does). Before the timed run the kiosks enrol the
-enrolled people with ordinary sealed enrol requests (a palm already
enrolled by an earlier run with the same -seed is identified instead); the
people stay enrolled afterwards.

-bundle MIB runs a firmware rollout instead: nobody is enrolled, the cloud
publishes one signed bundle of MIB MiB, and each kiosk downloads it once
through the cloud's bundle service, starting at a random instant within
-duration, and checks its size and SHA-256 as palmd does.

-serve DIR starts the region alone (nobody enrolled), writes its issuer
files and its cloud's ` + kioskKeysFile + ` into DIR (0600, none overwritten),
prints the palmload -url command that loads it and serves until
interrupted: a region to try -url on.`

type config struct {
	kiosks, enrolled, people, nodes, clouds int
	workers                                 int
	interval, duration, timeout, giveUp     time.Duration
	kill, json                              bool
	bundleMiB                               int // a rollout of a bundle this size (-bundle)
	seed                                    uint64
	cpuProfile                              string
	url, issuer, kioskKeys                  string // an external region (-url)
	serve                                   string // serve a region, its files in this directory
}

func parse(args []string, stdout, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("palmload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stdout, usage); fs.SetOutput(stdout); fs.PrintDefaults() }
	fs.IntVar(&c.kiosks, "kiosks", 1000, "simulated kiosks, each with its own credentials")
	fs.DurationVar(&c.interval, "interval", 5*time.Second, "time between two identifications of one kiosk")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the kiosks send")
	fs.IntVar(&c.enrolled, "enrolled", 10000, "people enrolled (with -url: people palmload enrols through its kiosks)")
	fs.IntVar(&c.people, "people", 100, "enrolled people who present their palm at the kiosks (the rest are enrolled only)")
	fs.IntVar(&c.nodes, "nodes", 3, "NATS servers in the cluster")
	fs.IntVar(&c.clouds, "clouds", 2, "reference-cloud instances")
	fs.IntVar(&c.workers, "workers", 32, "requests each cloud instance serves at once (it queues 4 per worker and answers the rest busy)")
	fs.BoolVar(&c.kill, "kill-node", false, "kill one server at half the duration and restart it at three quarters")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "wait for an answer before sending the request again (same id)")
	fs.DurationVar(&c.giveUp, "give-up", 30*time.Second, "a request unanswered this long after its first send is an error")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the people's palms and the kiosks' phases")
	fs.BoolVar(&c.json, "json", false, "print only the JSON line")
	fs.IntVar(&c.bundleMiB, "bundle", 0, "run a rollout instead: each kiosk downloads one signed bundle of this many MiB, starting within -duration")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (after setup) to this file")
	fs.StringVar(&c.url, "url", "", "an existing region's NATS URLs, comma-separated: start no cluster and no cloud")
	fs.StringVar(&c.issuer, "issuer", "", "with -url: directory of the region's issuer files (account.nk, fleet-ca.pem, fleet-ca-key.pem, server-ca.pem)")
	fs.StringVar(&c.kioskKeys, "kiosk-keys", "", "with -url: the cloud's public keys, the JSON \"palmcloud keygen\" prints")
	fs.StringVar(&c.serve, "serve", "", "start the region (-nodes, -clouds, -workers), write its issuer files and "+kioskKeysFile+" into this directory, print the palmload -url command that loads it, and serve until interrupted")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *version {
		return c, errVersion
	}
	var ownRegion []string // flags set that only a region palmload starts has
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "nodes" || f.Name == "clouds" || f.Name == "workers" || f.Name == "kill-node" {
			ownRegion = append(ownRegion, "-"+f.Name)
		}
	})
	switch {
	case c.serve != "" && (c.url != "" || c.kill):
		return c, errors.New("-serve with -url or -kill-node: -serve starts a region for another palmload to load and kill nothing")
	case c.url != "" && len(ownRegion) > 0:
		return c, fmt.Errorf("-url with %s: palmload starts no servers or cloud with -url, so it can neither size nor kill them", strings.Join(ownRegion, ", "))
	case c.url != "" && (c.issuer == "" || c.kioskKeys == ""):
		return c, errors.New("-url needs -issuer DIR (the region's issuer files) and -kiosk-keys FILE (the cloud's public keys)")
	case c.url == "" && (c.issuer != "" || c.kioskKeys != ""):
		return c, errors.New("-issuer and -kiosk-keys go with -url")
	case c.bundleMiB < 0 || c.bundleMiB > 1024:
		return c, fmt.Errorf("-bundle %d: want 1 to 1024 MiB", c.bundleMiB)
	case c.bundleMiB > 0 && (c.url != "" || c.serve != ""):
		return c, errors.New("-bundle with -url or -serve: palmload publishes the bundle with the cloud's credentials, which it holds only for a region it runs itself")
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), usage)
	case c.kiosks < 1:
		return c, fmt.Errorf("-kiosks %d: want at least 1", c.kiosks)
	case c.people < 1 || c.people > c.enrolled:
		return c, fmt.Errorf("-people %d: want 1 to -enrolled (%d)", c.people, c.enrolled)
	case c.nodes < 1 || c.clouds < 1 || c.workers < 1:
		return c, fmt.Errorf("-nodes %d -clouds %d -workers %d: want at least 1 of each", c.nodes, c.clouds, c.workers)
	case c.kill && c.nodes < 3:
		return c, fmt.Errorf("-kill-node needs -nodes 3 or more (JetStream keeps a quorum), got %d", c.nodes)
	case c.interval <= 0 || c.duration <= 0 || c.timeout <= 0 || c.giveUp < c.timeout:
		return c, errors.New("-interval, -duration and -timeout must be positive, -give-up at least -timeout")
	}
	return c, nil
}

var errVersion = errors.New("version")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parse(args, stdout, stderr)
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, "palmload", version)
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if c.serve != "" {
		return serve(ctx, c, log, stdout)
	}
	r, err := newRegion(ctx, c, log, stderr)
	if err != nil {
		return err
	}
	defer r.close()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rep report
	if c.bundleMiB > 0 {
		rep = r.rollout(ctx)
	} else {
		rep = r.load(ctx)
	}
	if !c.json {
		rep.text(stdout)
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// region is the region loaded (started here, or reached at -url), the
// people and the kiosks.
type region struct {
	c        config
	log      *slog.Logger
	local    *local // the region palmload started; nil with -url
	urls     string
	run      string // this run's prefix of request ids, unique per run
	palmSeal *seal.Sealer
	cardSeal *seal.Sealer
	regions  []*image.Gray // the palm region of each presenting person
	subjects []string      // their subject pseudonyms
	kiosks   []*uplink.Client
	ids      []string
	// enrolledNow is how many people palmload enrolled (the rest of
	// -enrolled were enrolled by an earlier run with the same -seed).
	enrolledNow int

	disconnects atomic.Int64 // kiosk connections lost (a killed server)

	bundle wire.Update // what a rollout (-bundle) downloads
}

// local is a region in this process: a cluster and cloud instances
// trusting one dev.Authority.
type local struct {
	auth    *dev.Authority
	dir     string
	cluster *dev.Cluster
	clouds  []*cloud.Cloud
	conns   []*nats.Conn
	bundles []*cloud.Bundles // each instance's bundle service
	keys    kioskconfig.Keys // the cloud's public keys, as a kiosk holds them
}

// startLocal starts a cluster of nodes servers and clouds cloud
// instances of workers workers each.
func startLocal(ctx context.Context, nodes, clouds, workers int, log *slog.Logger) (_ *local, err error) {
	l := &local{}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	if l.auth, err = dev.NewAuthority(); err != nil {
		return nil, err
	}
	if l.dir, err = os.MkdirTemp("", "palmload-"); err != nil {
		return nil, err
	}
	if l.cluster, err = dev.StartCluster(l.auth, nodes, l.dir); err != nil {
		return nil, err
	}
	sealPub, sealPriv, _ := seal.GenerateKey()
	payPub, payPriv, _ := seal.GenerateKey()
	sealOpener, _ := seal.NewOpener(sealPriv)
	payOpener, _ := seal.NewOpener(payPriv)
	signPub, signPriv, _ := ed25519.GenerateKey(nil)
	l.keys = kioskconfig.Keys{Seal: sealPub, Payment: payPub, Sign: signPub}
	cloudCreds, err := l.auth.Cloud()
	if err != nil {
		return nil, err
	}
	for i := range clouds {
		cl, err := cloud.New(cloud.Config{Seal: sealOpener, Payment: payOpener, SignKey: signPriv, Logger: log, Workers: workers})
		if err != nil {
			return nil, err
		}
		// Instance i starts on server i, and fails over to the others.
		urls := strings.Split(l.cluster.URLs(), ",")
		slices.Reverse(urls[:i%len(urls)])
		slices.Reverse(urls[i%len(urls):])
		slices.Reverse(urls)
		nc, err := nats.Connect(strings.Join(urls, ","), nats.UserJWTAndSeed(cloudCreds.JWT, cloudCreds.Seed),
			nats.Secure(cloudCreds.TLS), nats.DontRandomize(), nats.MaxReconnects(-1),
			nats.ReconnectWait(100*time.Millisecond), nats.ReconnectJitter(100*time.Millisecond, 0))
		if err != nil {
			return nil, fmt.Errorf("cloud %d: %w", i, err)
		}
		l.conns = append(l.conns, nc)
		octx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = cl.Open(octx, nc, cloud.StoreOptions{Replicas: min(3, nodes)})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("cloud %d: %w", i, err)
		}
		if _, err := cl.Subscribe(nc); err != nil {
			return nil, err
		}
		l.clouds = append(l.clouds, cl)
		b, err := cloud.ServeBundles(nc, log)
		if err != nil {
			return nil, err
		}
		l.bundles = append(l.bundles, b)
	}
	return l, nil
}

func (l *local) close() {
	for _, nc := range l.conns {
		nc.Close()
	}
	for _, cl := range l.clouds {
		cl.Wait()
		cl.Close()
	}
	for _, b := range l.bundles {
		b.Wait()
	}
	if l.cluster != nil {
		l.cluster.Shutdown()
	}
	if l.dir != "" {
		os.RemoveAll(l.dir)
	}
}

func newRegion(ctx context.Context, c config, log *slog.Logger, progress io.Writer) (_ *region, err error) {
	r := &region{c: c, log: log, urls: c.url, run: fmt.Sprintf("%08x", rand.Uint32())}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	step := func(format string, a ...any) {
		if !c.json {
			fmt.Fprintf(progress, "palmload: "+format+"\n", a...)
		}
	}
	var issuer *dev.Issuer
	var keys kioskconfig.Keys
	if c.url == "" {
		if r.local, err = startLocal(ctx, c.nodes, c.clouds, c.workers, log); err != nil {
			return nil, err
		}
		r.urls, issuer, keys = r.local.cluster.URLs(), &r.local.auth.Issuer, r.local.keys
		step("cluster of %d servers with JetStream: %s", c.nodes, r.urls)
		step("%d cloud instances in queue group %q", c.clouds, cloud.Queue)
		if c.bundleMiB > 0 {
			if r.bundle, err = r.local.publishBundle(ctx, c.bundleMiB, min(3, c.nodes)); err != nil {
				return nil, err
			}
			step("a signed bundle of %d MiB published (%s)", c.bundleMiB, r.bundle.Object)
		} else {
			if err := r.importPeople(ctx); err != nil {
				return nil, err
			}
			r.enrolledNow = c.enrolled
			step("%d people enrolled (%d of them present their palm)", c.enrolled, c.people)
		}
	} else {
		if issuer, err = dev.LoadIssuer(c.issuer); err != nil {
			return nil, fmt.Errorf("-issuer: %w", err)
		}
		if keys, err = loadKioskKeys(c.kioskKeys); err != nil {
			return nil, err
		}
	}
	if r.palmSeal, err = seal.NewSealer(keys.Seal); err != nil {
		return nil, err
	}
	if r.cardSeal, err = seal.NewSealer(keys.Payment); err != nil {
		return nil, err
	}

	for i := range c.kiosks {
		id := fmt.Sprintf("load-%04d", i)
		creds, err := issuer.Device(id)
		if err != nil {
			return nil, err
		}
		k, err := uplink.Dial(r.urls, id, keys.Sign, append(creds.Options(),
			uplink.Reconnect(100*time.Millisecond, 100*time.Millisecond),
			uplink.OnHealth(func(h uplink.Health) {
				if h.State == "disconnected" {
					r.disconnects.Add(1)
				}
			}))...)
		if err != nil {
			return nil, err
		}
		r.kiosks, r.ids = append(r.kiosks, k), append(r.ids, id)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		up := 0
		for _, k := range r.kiosks {
			if k.Connected() {
				up++
			}
		}
		if up == len(r.kiosks) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d kiosks connected to %s after 60 s", up, len(r.kiosks), r.urls)
		}
	}
	step("%d kiosks connected, each with its own credentials", c.kiosks)
	if c.url != "" {
		if err := r.enrolByRequests(ctx); err != nil {
			return nil, err
		}
		step("%d people enrolled by the kiosks' enrol requests, %d by an earlier run (%d of them present their palm)",
			r.enrolledNow, c.enrolled-r.enrolledNow, c.people)
	}
	return r, nil
}

// loadKioskKeys reads the cloud's public keys from path: the JSON
// "palmcloud keygen" prints, the uplink section of palmd's config, whose
// checks (firmware/config) it passes.
func loadKioskKeys(path string) (kioskconfig.Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return kioskconfig.Keys{}, fmt.Errorf("-kiosk-keys: %w", err)
	}
	var u kioskconfig.Uplink
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return kioskconfig.Keys{}, fmt.Errorf("-kiosk-keys %s: want the JSON \"palmcloud keygen\" prints (seal_key, payment_key, sign_key): %w", path, err)
	}
	doc, err := json.Marshal(map[string]kioskconfig.Uplink{"uplink": u})
	if err != nil {
		return kioskconfig.Keys{}, fmt.Errorf("-kiosk-keys %s: %w", path, err)
	}
	cfg, err := kioskconfig.Parse(doc)
	if err != nil {
		return kioskconfig.Keys{}, fmt.Errorf("-kiosk-keys %s: %w", path, err)
	}
	k := cfg.Uplink.Keys
	if k.Seal == nil || k.Payment == nil || k.Sign == nil {
		return kioskconfig.Keys{}, fmt.Errorf("-kiosk-keys %s: want seal_key, payment_key and sign_key, all three", path)
	}
	return k, nil
}

// kioskKeysFile is the cloud's public keys -serve writes.
const kioskKeysFile = "kiosk-keys.json"

// serve starts a region, writes its files for palmload -url, prints the
// command that loads it and serves until ctx is done.
func serve(ctx context.Context, c config, log *slog.Logger, stdout io.Writer) error {
	l, err := startLocal(ctx, c.nodes, c.clouds, c.workers, log)
	if err != nil {
		return err
	}
	defer l.close()
	if err := os.MkdirAll(c.serve, 0o700); err != nil {
		return fmt.Errorf("-serve: %w", err)
	}
	if err := l.auth.WriteFiles(c.serve); err != nil {
		return fmt.Errorf("-serve: %w", err)
	}
	keys := filepath.Join(c.serve, kioskKeysFile)
	if err := writeKioskKeys(keys, l.keys); err != nil {
		return fmt.Errorf("-serve: %w", err)
	}
	fmt.Fprintf(stdout, "palmload -url %s -issuer %s -kiosk-keys %s\n", l.cluster.URLs(), c.serve, keys)
	<-ctx.Done()
	return nil
}

// writeKioskKeys writes k as "palmcloud keygen" prints them, never over
// an existing file.
func writeKioskKeys(path string, k kioskconfig.Keys) error {
	b64 := base64.StdEncoding.EncodeToString
	b, err := json.MarshalIndent(map[string]string{"seal_key": b64(k.Seal), "payment_key": b64(k.Payment), "sign_key": b64(k.Sign)}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	return errors.Join(err, f.Close())
}

// palm returns person p's palm region: noise, which the matcher tells
// apart like palms, the same for a seed and p in every run.
func palm(seed uint64, p int) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 1<<32+uint64(p)))
	img := image.NewGray(image.Rect(0, 0, match.Size, match.Size))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	return img
}

// importPeople imports the presenting people into the region palmload
// started, and random templates for the others.
func (r *region) importPeople(ctx context.Context) error {
	clouds := r.local.clouds
	for p := range r.c.people {
		img := palm(r.c.seed, p)
		t, err := match.NewTemplate(img)
		if err != nil {
			return err
		}
		s, err := clouds[p%len(clouds)].Import(t)
		if err != nil {
			return err
		}
		r.regions, r.subjects = append(r.regions, img), append(r.subjects, s)
	}
	rest := r.c.enrolled - r.c.people
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wr := rand.New(rand.NewPCG(r.c.seed, uint64(100+w)))
			for i := w; i < rest && failed.Load() == nil; i += 32 {
				if _, err := clouds[i%len(clouds)].Import(randomTemplate(wr)); err != nil {
					failed.Store(&err)
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return *err
	}
	// Every instance learns the others' enrolments from the bucket.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		done := true
		for _, cl := range clouds {
			done = done && cl.Enrolled() == r.c.enrolled
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("cloud instances did not all load %d enrolments", r.c.enrolled)
		}
	}
}

// enrolByRequests has the kiosks enrol the -enrolled people through
// ordinary sealed enrol requests, person p from kiosk p mod -kiosks, one
// after another per kiosk. These requests count against each kiosk's
// rate in the cloud.
func (r *region) enrolByRequests(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.regions, r.subjects = make([]*image.Gray, r.c.people), make([]string, r.c.people)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := range r.kiosks {
		wg.Go(func() {
			for p := k; p < r.c.enrolled && ctx.Err() == nil; p += len(r.kiosks) {
				img := palm(r.c.seed, p)
				subject, fresh, err := r.enrolOne(ctx, k, p, img)
				if err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				if fresh {
					r.enrolledNow++
				}
				if p < r.c.people {
					r.regions[p], r.subjects[p] = img, subject
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// enrolOne enrols person p from kiosk k and returns the subject; fresh
// is false for a palm already enrolled (by an earlier run with this
// seed), which is identified instead. An answer asking to retry (busy,
// rate_limited, ...) is followed by a new request a second later, up to
// -give-up.
func (r *region) enrolOne(ctx context.Context, k, p int, img *image.Gray) (subject string, fresh bool, err error) {
	first := time.Now()
	for attempt := 0; ; attempt++ {
		req := wire.Request{ID: fmt.Sprintf("%s-e%d-%d", r.run, p, attempt), Device: r.ids[k], Flow: wire.FlowEnrol, Time: time.Now()}
		rec := wire.AppendEnrolCapture(nil, wire.Left, img)
		phone, card := fmt.Appendf(nil, "0%09d", p), fmt.Appendf(nil, "4%015d", p)
		req.Palm, err = r.palmSeal.Seal(seal.ContextOf(req, seal.PartPalm), rec)
		if err == nil {
			req.Phone, err = r.palmSeal.Seal(seal.ContextOf(req, seal.PartPhone), phone)
		}
		if err == nil {
			req.Card, err = r.cardSeal.Seal(seal.ContextOf(req, seal.PartCard), card)
		}
		clear(rec)
		if err != nil {
			return "", false, fmt.Errorf("person %d: enrol: %w", p, err)
		}
		d, _, err := r.ask(ctx, k, req, first)
		switch {
		case err != nil:
			return "", false, fmt.Errorf("person %d: enrol: %w", p, err)
		case d.Outcome == wire.Approved:
			return d.Subject, true, nil
		case d.Outcome == wire.Declined && d.Reason == "duplicate_palm":
			req, err := r.request(k, fmt.Sprintf("e%d-who", p), img)
			if err != nil {
				return "", false, fmt.Errorf("person %d: identify: %w", p, err)
			}
			d, _, err := r.ask(ctx, k, req, time.Now())
			if err != nil || d.Outcome != wire.Approved {
				return "", false, fmt.Errorf("person %d: enrolled already, but identifying answered %s %s (%v)", p, d.Outcome, d.Reason, err)
			}
			return d.Subject, false, nil
		case d.Outcome == wire.Retry && time.Since(first) < r.c.giveUp:
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return "", false, ctx.Err()
			}
		default:
			return "", false, fmt.Errorf("person %d: enrol answered %s %s", p, d.Outcome, d.Reason)
		}
	}
}

func (r *region) close() {
	for _, k := range r.kiosks {
		k.Close()
	}
	if r.local != nil {
		r.local.close()
	}
}

// randomTemplate returns a template with a random orientation at every
// point (match.Template's encoding).
func randomTemplate(r *rand.Rand) match.Template {
	codes := [6]uint8{0b000, 0b001, 0b011, 0b111, 0b110, 0b100}
	b := []byte("PCC\x01\x20")
	var planes [3][32]uint32
	for y := range 32 {
		for x := range 32 {
			c := codes[r.IntN(6)]
			for p := range 3 {
				planes[p][y] |= uint32(c>>p&1) << x
			}
		}
	}
	for p := range 3 {
		for y := range 32 {
			b = binary.LittleEndian.AppendUint32(b, planes[p][y])
		}
	}
	var t match.Template
	if err := t.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	return t
}

// result is what became of one request.
type result struct {
	latency time.Duration
	sends   int
	err     error
	kind    string // of err: errBusy, errWrong, errUnanswered or errOther
}

// The kinds of error a request can end in.
const (
	errBusy       = "busy"         // the cloud shed it: retry "busy"
	errWrong      = "wrong_answer" // another decision than the person's approval
	errUnanswered = "unanswered"   // no answer within -give-up
	errOther      = "other"        // anything else (verification, setup)
)

// load runs the kiosks' schedule and reports.
func (r *region) load(ctx context.Context) report {
	rng := rand.New(rand.NewPCG(r.c.seed, 5))
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	start := time.Now().Add(100 * time.Millisecond)
	for k := range r.kiosks {
		phase := time.Duration(rng.Int64N(int64(r.c.interval)))
		seed := rng.Uint64()
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr := rand.New(rand.NewPCG(seed, 9))
			var sends sync.WaitGroup
			defer sends.Wait()
			for n, at := 0, phase; at < r.c.duration; n, at = n+1, at+r.c.interval {
				person := kr.IntN(len(r.regions))
				req, err := r.request(k, fmt.Sprintf("r%d", n), r.regions[person])
				if err != nil {
					mu.Lock()
					results = append(results, result{err: err, kind: errOther})
					mu.Unlock()
					continue
				}
				select {
				case <-time.After(time.Until(start.Add(at))):
				case <-ctx.Done():
					return
				}
				sends.Add(1)
				go func() { // open loop: the next request does not wait for this one
					defer sends.Done()
					res := r.send(ctx, k, req, person)
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
				}()
			}
		}()
	}
	killed := r.killMidway(ctx, start, &wg)
	wg.Wait()
	elapsed := time.Since(start)
	return r.report(results, elapsed, *killed)
}

// killMidway, with -kill-node, kills server 2 at half -duration after
// start and restarts it at three quarters, on a goroutine wg waits for.
// The returned name is the killed server's once wg is done, "" if none
// was killed.
func (r *region) killMidway(ctx context.Context, start time.Time, wg *sync.WaitGroup) *string {
	killed := new(string)
	if !r.c.kill {
		return killed
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		const victim = 1
		select {
		case <-time.After(time.Until(start.Add(r.c.duration / 2))):
		case <-ctx.Done():
			return
		}
		*killed = fmt.Sprintf("palm-%d", victim+1)
		r.local.cluster.Kill(victim)
		select {
		case <-time.After(time.Until(start.Add(r.c.duration * 3 / 4))):
		case <-ctx.Done():
			return
		}
		if err := r.local.cluster.Restart(victim); err != nil {
			r.log.Error("palmload: restart", "err", err)
		}
	}()
	return killed
}

// publishBundle signs a bundle around mib MiB of random bytes with a new
// key and publishes it through the first cloud instance, its bucket kept
// on replicas servers.
func (l *local) publishBundle(ctx context.Context, mib, replicas int) (wire.Update, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return wire.Update{}, err
	}
	img := make([]byte, mib<<20)
	rand.NewChaCha8([32]byte{}).Read(img)
	var b bytes.Buffer
	if _, err := secureboot.SignBundle(&b, priv, secureboot.Manifest{Product: "palmkiosk", Version: 2, Release: "palmload",
		Created: time.Now()}, bytes.NewReader(img)); err != nil {
		return wire.Update{}, err
	}
	u, err := cloud.PublishBundle(ctx, l.conns[0], cloud.StoreOptions{Replicas: replicas},
		secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}, "palmload.bundle", &b)
	if err != nil {
		return wire.Update{}, fmt.Errorf("-bundle: %w", err)
	}
	return u, nil
}

// rollout has every kiosk download r.bundle once, each starting at a
// random instant within -duration, and reports the downloads.
func (r *region) rollout(ctx context.Context) report {
	rng := rand.New(rand.NewPCG(r.c.seed, 7))
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	start := time.Now().Add(100 * time.Millisecond)
	for k := range r.kiosks {
		at := time.Duration(rng.Int64N(int64(r.c.duration)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(time.Until(start.Add(at))):
			case <-ctx.Done():
				return
			}
			res := r.download(ctx, k)
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
		}()
	}
	killed := r.killMidway(ctx, start, &wg)
	wg.Wait()
	rep := r.report(results, time.Since(start), *killed)
	rep.Enrolled, rep.IntervalS, rep.CloudAnswers = 0, 0, nil
	rep.BundleMiB = r.c.bundleMiB
	rep.MiBPerS = float64(rep.Answered*r.c.bundleMiB) / rep.DurationS
	return rep
}

// download reads the bundle through kiosk k to its end, checked as palmd
// checks it (uplink.Client.Bundle: size and SHA-256), and times it. A
// kiosk not connected (its server killed) is waited for until -give-up.
func (r *region) download(ctx context.Context, k int) result {
	first := time.Now()
	rc, err := r.kiosks[k].Bundle(ctx, r.bundle)
	for errors.Is(err, uplink.ErrNotConnected) && time.Since(first) < r.c.giveUp && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		rc, err = r.kiosks[k].Bundle(ctx, r.bundle)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
	}
	switch {
	case errors.Is(err, uplink.ErrBundleMismatch):
		return result{sends: 1, err: err, kind: errWrong}
	case errors.Is(err, uplink.ErrNotConnected):
		return result{sends: 1, err: err, kind: errUnanswered}
	case err != nil:
		return result{sends: 1, err: err, kind: errOther}
	}
	return result{sends: 1, latency: time.Since(first)}
}

// request builds kiosk k's identification of the palm img with request id
// id (in this run), sealed now, before its time comes.
func (r *region) request(k int, id string, img *image.Gray) (wire.Request, error) {
	req := wire.Request{ID: r.run + "-" + id, Device: r.ids[k], Flow: wire.FlowIdentify, Time: time.Now()}
	rec := wire.AppendCapture(nil, img)
	defer clear(rec)
	var err error
	req.Palm, err = r.palmSeal.Seal(seal.ContextOf(req, seal.PartPalm), rec)
	return req, err
}

// send sends kiosk k's identification of person until it is answered
// or -give-up passes, and judges the answer.
func (r *region) send(ctx context.Context, k int, req wire.Request, person int) result {
	first := time.Now()
	d, sends, err := r.ask(ctx, k, req, first)
	res := result{sends: sends}
	switch {
	case errors.Is(err, errGaveUp):
		res.err, res.kind = err, errUnanswered
	case err != nil:
		res.err, res.kind = err, errOther
	case d.Outcome == wire.Retry && d.Reason == "busy":
		res.err, res.kind = errors.New("cloud busy"), errBusy
	case d.Outcome != wire.Approved || d.Subject != r.subjects[person]:
		res.err, res.kind = fmt.Errorf("wrong answer: %s %s", d.Outcome, d.Reason), errWrong
	default:
		res.latency = time.Since(first)
	}
	return res
}

// errGaveUp is a request unanswered within -give-up.
var errGaveUp = errors.New("unanswered")

// ask sends req from kiosk k until it is answered, again with the same id
// when no answer came within -timeout, until -give-up after first. It
// returns the answer and how many times req was sent.
func (r *region) ask(ctx context.Context, k int, req wire.Request, first time.Time) (wire.Decision, int, error) {
	for sends := 1; ; sends++ {
		rctx, cancel := context.WithTimeout(ctx, r.c.timeout)
		d, err := r.kiosks[k].Do(rctx, req)
		cancel()
		switch {
		case err == nil:
			return d, sends, nil
		case ctx.Err() != nil:
			return d, sends, ctx.Err()
		case errors.Is(err, uplink.ErrNotConnected), errors.Is(err, uplink.ErrNoCloud), errors.Is(err, context.DeadlineExceeded),
			errors.As(err, new(*net.OpError)): // the connection failed under the request: a killed server
			if time.Since(first) > r.c.giveUp {
				return d, sends, fmt.Errorf("%w after %v: %w", errGaveUp, r.c.giveUp, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				time.Sleep(50 * time.Millisecond)
			}
		default:
			return d, sends, err
		}
	}
}

// report is the run's figures; its JSON is the last line of the output.
type report struct {
	// URL is the region's with -url, empty for the one palmload started.
	URL      string `json:"url,omitempty"`
	Kiosks   int    `json:"kiosks"`
	Enrolled int    `json:"enrolled"`
	// EnrolledNow is how many of Enrolled palmload enrolled in this run;
	// with -url the others were enrolled by an earlier run with the same
	// -seed.
	EnrolledNow int     `json:"enrolled_by_palmload"`
	Nodes       int     `json:"nodes,omitempty"`  // servers palmload started
	Clouds      int     `json:"clouds,omitempty"` // cloud instances palmload started
	IntervalS   float64 `json:"interval_s"`
	DurationS   float64 `json:"duration_s"`
	Requests    int     `json:"requests"`
	Answered    int     `json:"answered"`
	Errors      int     `json:"errors"`
	// ErrorKinds counts the errors by kind: busy (shed by the cloud with
	// a retry "busy" answer), wrong_answer, unanswered, other.
	ErrorKinds map[string]int `json:"errors_by_kind"`
	Resent     int            `json:"resent"`
	// Disconnects counts kiosk connections lost (and re-established).
	Disconnects int64   `json:"kiosk_disconnects"`
	P50         float64 `json:"p50_ms"`
	P95         float64 `json:"p95_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	Throughput  float64 `json:"throughput_per_s"`
	NodeKilled  bool    `json:"node_killed"`
	KilledNode  string  `json:"killed_node,omitempty"`
	// CloudAnswers is how many answers each instance sent (a request sent
	// again may be answered again, with the same signed answer).
	// answers are nil with -url.
	CloudAnswers []uint64 `json:"cloud_answers,omitempty"`
	FirstErrors  []string `json:"first_errors,omitempty"`
	// BundleMiB is a rollout's bundle size (-bundle): then a request is one
	// kiosk's whole download, an answer a download completed and checked,
	// a latency its duration, and MiBPerS the bytes completed a second.
	BundleMiB int     `json:"bundle_mib,omitempty"`
	MiBPerS   float64 `json:"bundle_mib_per_s,omitempty"`
}

func (r *region) report(results []result, elapsed time.Duration, killed string) report {
	rep := report{
		URL: r.c.url, Kiosks: r.c.kiosks, Enrolled: r.c.enrolled, EnrolledNow: r.enrolledNow,
		IntervalS: r.c.interval.Seconds(), DurationS: elapsed.Seconds(), Requests: len(results),
		NodeKilled: killed != "", KilledNode: killed, Disconnects: r.disconnects.Load(),
		ErrorKinds: map[string]int{},
	}
	var lat []time.Duration
	for _, res := range results {
		rep.Resent += res.sends - 1
		if res.err != nil {
			rep.Errors++
			rep.ErrorKinds[res.kind]++
			if len(rep.FirstErrors) < 5 {
				rep.FirstErrors = append(rep.FirstErrors, res.err.Error())
			}
			continue
		}
		rep.Answered++
		lat = append(lat, res.latency)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))].Microseconds()) / 1000
	}
	rep.P50, rep.P95, rep.P99, rep.Max = q(0.50), q(0.95), q(0.99), q(1)
	rep.Throughput = float64(rep.Answered) / elapsed.Seconds()
	if r.local != nil {
		rep.Nodes, rep.Clouds = r.c.nodes, r.c.clouds
		for _, cl := range r.local.clouds {
			rep.CloudAnswers = append(rep.CloudAnswers, cl.Stats().Answered)
		}
	}
	return rep
}

func (rep report) text(w io.Writer) {
	region := fmt.Sprintf("%d servers, %d cloud instances", rep.Nodes, rep.Clouds)
	if rep.URL != "" {
		region = "region " + rep.URL
	}
	if rep.BundleMiB > 0 {
		rep.rolloutText(w, region)
		return
	}
	fmt.Fprintf(w, "kiosks %d, enrolled %d (%d by palmload in this run), %s, one identification per kiosk every %gs for %.0fs\n",
		rep.Kiosks, rep.Enrolled, rep.EnrolledNow, region, rep.IntervalS, rep.DurationS)
	if rep.NodeKilled {
		fmt.Fprintf(w, "server %s killed at half time, restarted at three quarters\n", rep.KilledNode)
	}
	fmt.Fprintf(w, "requests %d, answered %d, errors %d (busy %d, wrong answer %d, unanswered %d, other %d), sent again %d, kiosk connections lost %d\n",
		rep.Requests, rep.Answered, rep.Errors, rep.ErrorKinds[errBusy], rep.ErrorKinds[errWrong],
		rep.ErrorKinds[errUnanswered], rep.ErrorKinds[errOther], rep.Resent, rep.Disconnects)
	fmt.Fprintf(w, "latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; %.1f answers/s\n",
		rep.P50, rep.P95, rep.P99, rep.Max, rep.Throughput)
	for _, e := range rep.FirstErrors {
		fmt.Fprintln(w, "error:", e)
	}
}

func (rep report) rolloutText(w io.Writer, region string) {
	fmt.Fprintf(w, "kiosks %d, %s, each downloading one bundle of %d MiB from a random instant within -duration; the run took %.1fs\n",
		rep.Kiosks, region, rep.BundleMiB, rep.DurationS)
	if rep.NodeKilled {
		fmt.Fprintf(w, "server %s killed at half time, restarted at three quarters\n", rep.KilledNode)
	}
	fmt.Fprintf(w, "downloads %d, completed and checked %d, errors %d (not as signed %d, not connected %d, other %d), kiosk connections lost %d\n",
		rep.Requests, rep.Answered, rep.Errors, rep.ErrorKinds[errWrong], rep.ErrorKinds[errUnanswered], rep.ErrorKinds[errOther], rep.Disconnects)
	fmt.Fprintf(w, "download time p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; %.1f MiB/s completed\n",
		rep.P50, rep.P95, rep.P99, rep.Max, rep.MiBPerS)
	for _, e := range rep.FirstErrors {
		fmt.Fprintln(w, "error:", e)
	}
}
