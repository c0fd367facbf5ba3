package main

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
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
  palmload -version
  palmload -h

Starts a NATS cluster with JetStream and reference-cloud instances in this
process, enrols -enrolled people, and has -kiosks kiosks each send one
identification every -interval (open loop) for -duration. The last line of
standard output is one JSON object with the figures.`

type config struct {
	kiosks, enrolled, people, nodes, clouds int
	workers                                 int
	interval, duration, timeout, giveUp     time.Duration
	kill, json                              bool
	seed                                    uint64
	cpuProfile                              string
}

func parse(args []string, stdout, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("palmload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stdout, usage); fs.SetOutput(stdout); fs.PrintDefaults() }
	fs.IntVar(&c.kiosks, "kiosks", 1000, "simulated kiosks, each with its own credentials")
	fs.DurationVar(&c.interval, "interval", 5*time.Second, "time between two identifications of one kiosk")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the kiosks send")
	fs.IntVar(&c.enrolled, "enrolled", 10000, "people enrolled")
	fs.IntVar(&c.people, "people", 100, "enrolled people who present their palm at the kiosks (the rest are enrolled only)")
	fs.IntVar(&c.nodes, "nodes", 3, "NATS servers in the cluster")
	fs.IntVar(&c.clouds, "clouds", 2, "reference-cloud instances")
	fs.IntVar(&c.workers, "workers", 32, "requests each cloud instance serves at once (it queues 4 per worker and answers the rest busy)")
	fs.BoolVar(&c.kill, "kill-node", false, "kill one server at half the duration and restart it at three quarters")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "wait for an answer before sending the request again (same id)")
	fs.DurationVar(&c.giveUp, "give-up", 30*time.Second, "a request unanswered this long after its first send is an error")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the people's palms and the kiosks' phases")
	fs.BoolVar(&c.json, "json", false, "print only the JSON line")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (after setup) to this file")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *version {
		return c, errVersion
	}
	switch {
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
	rep := r.load(ctx)
	if !c.json {
		rep.text(stdout)
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// region is the cluster, the cloud instances, the people and the kiosks.
type region struct {
	c        config
	log      *slog.Logger
	dir      string
	cluster  *dev.Cluster
	clouds   []*cloud.Cloud
	conns    []*nats.Conn
	palmSeal *seal.Sealer
	regions  []*image.Gray // the palm region of each presenting person
	subjects []string      // their subject pseudonyms
	kiosks   []*uplink.Client
	ids      []string

	disconnects atomic.Int64 // kiosk connections lost (a killed server)
}

func newRegion(ctx context.Context, c config, log *slog.Logger, progress io.Writer) (_ *region, err error) {
	r := &region{c: c, log: log}
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
	auth, err := dev.NewAuthority()
	if err != nil {
		return nil, err
	}
	if r.dir, err = os.MkdirTemp("", "palmload-"); err != nil {
		return nil, err
	}
	if r.cluster, err = dev.StartCluster(auth, c.nodes, r.dir); err != nil {
		return nil, err
	}
	step("cluster of %d servers with JetStream: %s", c.nodes, r.cluster.URLs())

	sealPub, sealPriv, _ := seal.GenerateKey()
	_, payPriv, _ := seal.GenerateKey()
	sealOpener, _ := seal.NewOpener(sealPriv)
	payOpener, _ := seal.NewOpener(payPriv)
	if r.palmSeal, err = seal.NewSealer(sealPub); err != nil {
		return nil, err
	}
	signPub, signPriv, _ := ed25519.GenerateKey(nil)
	cloudCreds, err := auth.Cloud()
	if err != nil {
		return nil, err
	}
	for i := range c.clouds {
		cl, err := cloud.New(cloud.Config{Seal: sealOpener, Payment: payOpener, SignKey: signPriv, Logger: log, Workers: c.workers})
		if err != nil {
			return nil, err
		}
		// Instance i starts on server i, and fails over to the others.
		urls := strings.Split(r.cluster.URLs(), ",")
		slices.Reverse(urls[:i%len(urls)])
		slices.Reverse(urls[i%len(urls):])
		slices.Reverse(urls)
		nc, err := nats.Connect(strings.Join(urls, ","), nats.UserJWTAndSeed(cloudCreds.JWT, cloudCreds.Seed),
			nats.Secure(cloudCreds.TLS), nats.DontRandomize(), nats.MaxReconnects(-1),
			nats.ReconnectWait(100*time.Millisecond), nats.ReconnectJitter(100*time.Millisecond, 0))
		if err != nil {
			return nil, fmt.Errorf("cloud %d: %w", i, err)
		}
		r.conns = append(r.conns, nc)
		octx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = cl.Open(octx, nc, cloud.StoreOptions{Replicas: min(3, c.nodes)})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("cloud %d: %w", i, err)
		}
		if _, err := cl.Subscribe(nc); err != nil {
			return nil, err
		}
		r.clouds = append(r.clouds, cl)
	}
	step("%d cloud instances in queue group %q", c.clouds, cloud.Queue)

	if err := r.enrol(ctx); err != nil {
		return nil, err
	}
	step("%d people enrolled (%d of them present their palm)", c.enrolled, c.people)

	for i := range c.kiosks {
		id := fmt.Sprintf("load-%04d", i)
		creds, err := auth.Device(id)
		if err != nil {
			return nil, err
		}
		k, err := uplink.Dial(r.cluster.URLs(), id, signPub, append(creds.Options(),
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
			return nil, fmt.Errorf("%d of %d kiosks connected after 60 s", up, len(r.kiosks))
		}
	}
	step("%d kiosks connected, each with its own credentials", c.kiosks)
	return r, nil
}

// enrol imports the presenting people (palm regions of noise, which the
// matcher tells apart like palms) and random templates for the others.
func (r *region) enrol(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(r.c.seed, 3))
	for p := range r.c.people {
		img := image.NewGray(image.Rect(0, 0, match.Size, match.Size))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		t, err := match.NewTemplate(img)
		if err != nil {
			return err
		}
		s, err := r.clouds[p%len(r.clouds)].Import(t)
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
				if _, err := r.clouds[i%len(r.clouds)].Import(randomTemplate(wr)); err != nil {
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
		for _, cl := range r.clouds {
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

func (r *region) close() {
	for _, k := range r.kiosks {
		k.Close()
	}
	for _, nc := range r.conns {
		nc.Close()
	}
	for _, cl := range r.clouds {
		cl.Wait()
		cl.Close()
	}
	if r.cluster != nil {
		r.cluster.Shutdown()
	}
	if r.dir != "" {
		os.RemoveAll(r.dir)
	}
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
				req, err := r.request(k, n, person)
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
	killed := ""
	if r.c.kill {
		wg.Add(1)
		go func() {
			defer wg.Done()
			const victim = 1
			select {
			case <-time.After(time.Until(start.Add(r.c.duration / 2))):
			case <-ctx.Done():
				return
			}
			killed = fmt.Sprintf("palm-%d", victim+1)
			r.cluster.Kill(victim)
			select {
			case <-time.After(time.Until(start.Add(r.c.duration * 3 / 4))):
			case <-ctx.Done():
				return
			}
			if err := r.cluster.Restart(victim); err != nil {
				r.log.Error("palmload: restart", "err", err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	return r.report(results, elapsed, killed)
}

// request builds kiosk k's n-th request, sealed now, before its time comes.
func (r *region) request(k, n, person int) (wire.Request, error) {
	req := wire.Request{ID: fmt.Sprintf("r%d", n), Device: r.ids[k], Flow: wire.FlowIdentify, Time: time.Now()}
	rec := wire.AppendCapture(nil, r.regions[person])
	defer clear(rec)
	var err error
	req.Palm, err = r.palmSeal.Seal(seal.ContextOf(req, seal.PartPalm), rec)
	return req, err
}

// send sends req until it is answered or give-up passes; every send
// carries the same request id.
func (r *region) send(ctx context.Context, k int, req wire.Request, person int) result {
	first := time.Now()
	res := result{}
	for {
		res.sends++
		rctx, cancel := context.WithTimeout(ctx, r.c.timeout)
		d, err := r.kiosks[k].Do(rctx, req)
		cancel()
		switch {
		case err == nil && d.Outcome == wire.Retry && d.Reason == "busy":
			res.err, res.kind = errors.New("cloud busy"), errBusy
			return res
		case err == nil && (d.Outcome != wire.Approved || d.Subject != r.subjects[person]):
			res.err, res.kind = fmt.Errorf("wrong answer: %s %s", d.Outcome, d.Reason), errWrong
			return res
		case err == nil:
			res.latency = time.Since(first)
			return res
		case ctx.Err() != nil:
			res.err, res.kind = ctx.Err(), errOther
			return res
		case errors.Is(err, uplink.ErrNotConnected), errors.Is(err, uplink.ErrNoCloud), errors.Is(err, context.DeadlineExceeded):
			if time.Since(first) > r.c.giveUp {
				res.err, res.kind = fmt.Errorf("unanswered after %v: %w", r.c.giveUp, err), errUnanswered
				return res
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				time.Sleep(50 * time.Millisecond)
			}
		default:
			res.err, res.kind = err, errOther
			return res
		}
	}
}

// report is the run's figures; its JSON is the last line of the output.
type report struct {
	Kiosks    int     `json:"kiosks"`
	Enrolled  int     `json:"enrolled"`
	Nodes     int     `json:"nodes"`
	Clouds    int     `json:"clouds"`
	IntervalS float64 `json:"interval_s"`
	DurationS float64 `json:"duration_s"`
	Requests  int     `json:"requests"`
	Answered  int     `json:"answered"`
	Errors    int     `json:"errors"`
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
	CloudAnswers []uint64 `json:"cloud_answers"`
	FirstErrors  []string `json:"first_errors,omitempty"`
}

func (r *region) report(results []result, elapsed time.Duration, killed string) report {
	rep := report{
		Kiosks: r.c.kiosks, Enrolled: r.c.enrolled, Nodes: r.c.nodes, Clouds: r.c.clouds,
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
	for _, cl := range r.clouds {
		rep.CloudAnswers = append(rep.CloudAnswers, cl.Stats().Answered)
	}
	return rep
}

func (rep report) text(w io.Writer) {
	fmt.Fprintf(w, "kiosks %d, enrolled %d, %d servers, %d cloud instances, one identification per kiosk every %gs for %.0fs\n",
		rep.Kiosks, rep.Enrolled, rep.Nodes, rep.Clouds, rep.IntervalS, rep.DurationS)
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
