package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/uplink/secmem"
)

// usageError is a bad command line or configuration: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// flags is palmd's command line.
type flags struct {
	config, hw, nats, logLevel string
	check, json, version       bool
	sim                        simFlags // only in the simulation build
	console                    consoleFlags
}

// newFlagSet returns a flag set with the flags every palmd command has:
// -config, -hw and -log-level (defaulting to logLevel).
func newFlagSet(name string, f *flags, logLevel string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "JSON configuration `file`")
	fs.StringVar(&f.hw, "hw", "", "hardware: "+strings.Join(hardwareKinds(), " or ")+" (overrides the config)")
	fs.StringVar(&f.logLevel, "log-level", logLevel, "log `level`: debug, info, warn, error (overrides log_level)")
	return fs
}

const usageHead = `palmd is the palm kiosk daemon.

Usage:
  palmd [flags]              run the kiosk until SIGINT or SIGTERM
  palmd -t [flags]           validate the configuration and exit
  palmd selftest [flags]     exercise every part once, one PASS/FAIL line each
  palmd -version             print the version and exit
%s
Flags:
`

// parseFlags parses palmd's command line. help is true when -h was asked
// for: the usage is then on stdout and palmd exits 0.
func parseFlags(args []string, stdout, stderr io.Writer) (f flags, help bool, err error) {
	fs := newFlagSet("palmd", &f, "", stderr)
	fs.StringVar(&f.nats, "nats", "", "the cloud's NATS `URL` (overrides uplink.url)")
	fs.BoolVar(&f.check, "t", false, "validate the configuration and exit")
	fs.BoolVar(&f.json, "json", false, "print events as JSON lines even on a terminal")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	f.sim.register(fs)
	f.console.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), usageHead, simUsage())
		fs.PrintDefaults()
	}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return f, true, nil
	case err != nil:
		return f, false, usageError{err}
	case fs.NArg() > 0:
		return f, false, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return f, false, nil
}

// loadConfig is the one validation palmd runs, for -t and at start: the
// file (if any), the flags over it, every field checked, keys decoded.
func (f flags) loadConfig() (config.Config, error) {
	c, err := config.Load(f.config, config.Hardware(f.hw), config.URL(f.nats), config.LogLevel(f.logLevel))
	if err != nil {
		return c, usageError{err}
	}
	if c.Language != "" && !slices.Contains(firmware.Languages(), c.Language) {
		return c, usageError{fmt.Errorf("config: language: %q: want one of %s", c.Language, strings.Join(firmware.Languages(), ", "))}
	}
	return c, nil
}

// logger logs text to stderr from cfg's level, which a signed config may
// change while palmd runs (liveLevel).
func logger(cfg config.Config, stderr io.Writer) *slog.Logger {
	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel)
	return slog.New(liveLevel{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}), level})
}

// run is palmd without the process around it, so tests run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "selftest" {
		return runSelftest(ctx, args[1:], stdout, stderr)
	}
	f, help, err := parseFlags(args, stdout, stderr)
	if err != nil || help {
		return err
	}
	if f.version {
		fmt.Fprintln(stdout, "palmd", version)
		return nil
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	simu, err := f.sim.simulation(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := checkCloud(cfg); err != nil {
		return usageError{err}
	}
	if f.check {
		if miss := cfg.Missing(); len(miss) > 0 {
			fmt.Fprintf(stdout, "configuration ok; not provisioned yet (missing %s)\n", strings.Join(miss, ", "))
			return nil
		}
		fmt.Fprintln(stdout, "configuration ok")
		return nil
	}
	log := logger(cfg, stderr)
	log.Info("palmd starting", "version", version, "device", cfg.DeviceID, "hardware", cfg.Hardware)
	if h, err := secmem.Harden(); err != nil {
		log.Warn("process hardening incomplete", "core_dumps_off", h.CoreDumpsOff, "not_dumpable", h.NotDumpable, "err", err)
	}
	out := output{w: stdout, human: !f.json && isTerminal(stdout)}
	return serve(ctx, cfg, log, out, f.console, simu, defaultSeams())
}

// isTerminal reports whether w is a terminal a person reads.
func isTerminal(w io.Writer) bool {
	fh, ok := w.(*os.File)
	return ok && term.IsTerminal(int(fh.Fd()))
}

// checkCloud refuses a configuration that would serve nobody: without a
// cloud URL only the simulation build has a cloud (its own, in-process).
func checkCloud(cfg config.Config) error {
	if cfg.Uplink.URL == "" && !embeddedCloud {
		return errors.New("config: uplink.url: required: this palmd talks only to a configured cloud " +
			"(uplink.url, uplink.creds, uplink.seal_key, uplink.payment_key, uplink.sign_key)")
	}
	return nil
}

// output is where the kiosk's events are printed: JSON lines, or the live
// view for a person at a terminal.
type output struct {
	w     io.Writer
	human bool
}

// serve runs the kiosk on simulated hardware or, when simu is nil, on the
// Linux drivers cfg names, reached through hw. With a scenario it plays it
// and returns once it is done; otherwise it runs until ctx ends.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, out output, conf consoleFlags, simu *simulation, hw seams) error {
	// Two contexts: ctx ends the daemon's life (signals); life also ends
	// when a scenario is done, and stops everything palmd started.
	life, stop := context.WithCancel(ctx)
	defer stop()
	clock := clockwork.NewRealClock()
	// A signed config may change the level while palmd runs: the console's
	// log ring follows it too.
	var level slog.Leveler = cfg.LogLevel
	var live *slog.LevelVar
	if h, ok := log.Handler().(liveLevel); ok {
		level, live = h.level, h.level
	}
	log, ring := conf.withLogRing(log, level)

	// A kiosk whose credentials have not been installed yet serves nobody
	// and waits, in its not-provisioned mode, instead of failing (and being
	// restarted) in a loop.
	missing := cfg.Missing()
	up := &cloudLink{}
	var state *deviceState // palmd's state on the data partition, once provisioned
	var stateErr error
	var err error
	var prov *provisioner // the console's provision, while not provisioned
	if len(missing) > 0 {
		log.Warn("not provisioned", "missing", missing)
		prov = newProvisioner(cfg, log)
	} else {
		if state, err = openState(cfg.Update, clock.Now, log); err != nil {
			// Serve without it rather than exit: systemd would restart
			// palmd, and reboot the kiosk, in a loop.
			log.Error("palmd's state not opened: commands are checked against nonces only, update and config commands are refused", "err", err)
			stateErr, state = err, nil
		}
		defer state.Close()
		if state == nil && cfg.Uplink.URL != "" {
			log.Warn("no update.dir: a command replayed after a restart is not detected, and update and config commands are refused")
		}
		if up, err = resolveCloud(life, cfg, log); err != nil {
			return err
		}
	}
	defer up.Close()
	simu.attachCloud(up)

	var devs firmware.Devices
	if simu != nil {
		devs = simu.devices(clock)
	} else {
		var closeHW io.Closer
		if devs, closeHW, err = linuxDevices(life, cfg.Linux, log, hw); err != nil {
			return err
		}
		defer closeHW.Close()
	}

	var events bus.Bus
	var sinks errgroup.Group
	defer sinks.Wait()
	var subs []*bus.Sub
	sink := func(n int, f func(bus.Event)) {
		sub := events.Subscribe(n)
		subs = append(subs, sub)
		sinks.Go(func() error { sub.Each(f); return nil })
	}
	defer func() {
		for _, s := range subs {
			s.Close()
		}
	}()
	if out.human {
		sink(1024, bus.NewText(out.w).Write)
	} else {
		sink(1024, bus.NewJSON(out.w).Write)
	}
	sink(1024, up.telemetry(cfg.DeviceID, log))
	var cloud firmware.Cloud = up
	if simu != nil {
		if f := simu.eventSink(); f != nil {
			sink(1024, f)
		}
		cloud = simu.cloud(up)
	}
	var played chan simEvent
	if simu != nil && simu.play != nil {
		played = make(chan simEvent, 4096)
		sink(4096, func(ev bus.Event) {
			// The player reads as long as it plays; once it has stopped,
			// the events it would have read are of no use to it.
			select {
			case played <- toSimEvent(ev):
			default:
			}
		})
	}

	kiosk, err := firmware.New(firmware.Options{
		DeviceID: cfg.DeviceID,
		Devices:  devs,
		Cloud:    cloud,
		Palm:     up.sealer(up.palm),
		Card:     up.sealer(up.card),
		Bus:      &events,
		Clock:    clock,
		Log:      log,
		Language: cfg.Language,
		DataDir:  cfg.Update.Dir,
		Patterns: simu.patterns(),
	})
	if err != nil {
		return err
	}
	defer kiosk.Close()
	emit := func(ev bus.Event) {
		ev.Time = clock.Now().UTC()
		events.Publish(ev)
	}
	var updates *updateDriver
	if state != nil {
		if updates, err = newUpdateDriver(state, kiosk, clock, emit, log, updateHooks{}); err != nil {
			log.Error("updater not opened: update and config commands are refused", "err", err)
			stateErr, updates = err, nil
		}
	}
	if stateErr != nil {
		emit(bus.Event{Event: evUpdate, Reason: "failed:state"})
	}
	var running sync.WaitGroup // updates under way
	defer func() { stop(); running.Wait() }()
	con, err := newConsole(conf, consoleDeps{cfg: cfg, log: log, ring: ring, kiosk: kiosk, bus: &events,
		devs: devs, up: up, sim: consoleSim(simu, kiosk), provision: prov.forConsole(), clock: clock, updates: updates})
	if err != nil {
		return err
	}
	cfgs := &configApplier{updates: updates, level: live, emit: emit, log: log, running: cfg}
	if con != nil {
		cfgs.console = con // a nil *console.Server is no keySetter
	}
	cmds := commands{kiosk: kiosk, up: up, updates: updates, configs: cfgs, emit: emit, log: log, ctx: life, running: &running}
	if len(missing) > 0 {
		kiosk.Provisioned(false)
	} else if err := up.dial(cfg.DeviceID, log, kiosk.CloudHealth, cmds.handle, state.uplinkOptions()...); err != nil {
		return err
	}

	ready := make(chan struct{})
	g, gctx := errgroup.WithContext(life)
	if err := startPOS(gctx, g, cfg.POS, simu.posLine(), simu.posListener(), kiosk.POS(), log); err != nil {
		stop()
		return errors.Join(err, g.Wait())
	}
	if err := serveConsole(gctx, g, conf, con, ring, clock, log); err != nil {
		stop()
		return errors.Join(err, g.Wait())
	}
	g.Go(func() error { return kiosk.Run(gctx, func() { notify("READY=1"); close(ready) }) })
	g.Go(func() error { watchdog(gctx, clock, kiosk.Healthy); return nil })
	if prov != nil {
		g.Go(func() error { return prov.wait(gctx, clock) })
	}
	if updates != nil {
		g.Go(func() error {
			if err := updates.commitWhenHealthy(gctx, ready); err != nil {
				log.Error("update not committed", "err", err)
			}
			return nil
		})
	}
	if simu != nil {
		if err := simu.startWeb(gctx, g, kiosk, log); err != nil {
			stop()
			return errors.Join(err, g.Wait())
		}
	}
	if played == nil {
		err := g.Wait()
		notify("STOPPING=1")
		return err
	}
	playErr := simu.playScenario(gctx, log, played)
	if playErr == nil && simu.staysUp() {
		log.Info("scenario done; the kiosk and its page run until interrupted")
		<-gctx.Done()
	}
	stop()
	if err := g.Wait(); err != nil {
		return err
	}
	return playErr
}
