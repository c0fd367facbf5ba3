package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/uplink/secmem"
)

// usageError is a bad command line or configuration: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// flags is palmd's command line.
type flags struct {
	config, hw, nats, scenario, snapshot, logLevel string
	check                                          bool
}

// newFlagSet returns a flag set with the flags every palmd command has:
// -config, -hw and -log-level (defaulting to logLevel).
func newFlagSet(name string, f *flags, logLevel string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "JSON configuration `file`")
	fs.StringVar(&f.hw, "hw", "", "hardware: sim or linux (overrides the config)")
	fs.StringVar(&f.logLevel, "log-level", logLevel, "log `level`: debug, info, warn, error")
	return fs
}

func parseFlags(name string, args []string, stderr io.Writer) (flags, []string, error) {
	var f flags
	fs := newFlagSet(name, &f, "info", stderr)
	fs.StringVar(&f.nats, "nats", "", "cloud NATS `URL`; empty starts an embedded server and reference cloud")
	fs.StringVar(&f.scenario, "scenario", "", "play a scenario (built-in `name` or file) on simulated hardware and exit")
	fs.StringVar(&f.snapshot, "snapshot", "", "with -scenario: save the final screen as a PNG `file`")
	fs.BoolVar(&f.check, "t", false, "validate the configuration and exit")
	if err := fs.Parse(args); err != nil {
		return f, nil, usageError{err}
	}
	return f, fs.Args(), nil
}

// loadConfig reads the configuration file (if any) and applies the flags.
func (f flags) loadConfig() (config.Config, error) {
	c := config.Default()
	if f.config != "" {
		var err error
		if c, err = config.Load(f.config); err != nil {
			return c, usageError{err}
		}
	}
	if f.hw != "" {
		c.Hardware = f.hw
	}
	if f.nats != "" {
		c.Uplink.URL = f.nats
	}
	if err := c.Validate(); err != nil {
		return c, usageError{err}
	}
	if f.snapshot != "" && f.scenario == "" {
		return c, usageError{errors.New("-snapshot goes with -scenario")}
	}
	if f.scenario != "" && c.Hardware != "sim" {
		return c, usageError{errors.New("-scenario needs simulated hardware (-hw=sim)")}
	}
	return c, nil
}

func (f flags) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("-log-level: %w", err)}
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// run is palmd without the process around it, so tests run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "selftest" {
		return runSelftest(ctx, args[1:], stdout, stderr)
	}
	f, rest, err := parseFlags("palmd", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", rest[0])}
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	var simu *simulation
	if cfg.Hardware == "sim" {
		simu = &simulation{world: sim.NewWorld(), snapshot: f.snapshot}
		if f.scenario != "" {
			sc, err := sim.LoadScenario(f.scenario)
			if err != nil {
				return usageError{err}
			}
			simu.play = &sc
		}
	}
	if f.check {
		fmt.Fprintln(stdout, "configuration ok")
		return nil
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	log.Info("palmd starting", "version", version, "device", cfg.DeviceID, "hardware", cfg.Hardware)
	if h, err := secmem.Harden(); err != nil {
		log.Warn("process hardening incomplete", "core_dumps_off", h.CoreDumpsOff, "not_dumpable", h.NotDumpable, "err", err)
	}

	return serve(ctx, cfg, log, stdout, simu, defaultSeams())
}

// simulation is what serve needs to run on simulated hardware.
type simulation struct {
	world    *sim.World
	play     *sim.Scenario // nil: run until ctx ends
	snapshot string        // with play: save the final screen here as a PNG
}

// serve runs the kiosk on simulated hardware or, when simu is nil, on the
// Linux drivers cfg names, reached through hw. With a scenario it plays it
// and returns once it is done; otherwise it runs until ctx ends.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, simu *simulation, hw seams) error {
	// Two contexts: ctx ends the daemon's life (signals); life also ends
	// when a scenario is done, and stops everything palmd started.
	life, stop := context.WithCancel(ctx)
	defer stop()

	up, err := connectUplink(life, cfg, log)
	if err != nil {
		return err
	}
	defer up.Close()

	var devs firmware.Devices
	var play *sim.Scenario
	if simu != nil {
		devs, play = simDevices(simu.world), simu.play
	} else {
		var closeHW io.Closer
		if devs, closeHW, err = linuxDevices(life, cfg.Linux, log, hw); err != nil {
			return err
		}
		defer closeHW.Close()
	}

	out := newEventWriter(stdout, up.telemetry(cfg.DeviceID, log))
	var played chan sim.Event
	if play != nil {
		played = make(chan sim.Event, 1024)
		out.tee = played
	}
	kiosk, err := firmware.New(firmware.Options{
		DeviceID: cfg.DeviceID,
		Devices:  devs,
		Cloud:    up.client,
		Palm:     up.palm,
		Card:     up.card,
		Emit:     out.emit,
		Log:      log,
	})
	if err != nil {
		return err
	}
	defer kiosk.Close()

	g, gctx := errgroup.WithContext(life)
	g.Go(func() error { return kiosk.Run(gctx) })
	go watchdog(gctx, kiosk.Healthy)
	notify("READY=1")
	if play == nil {
		err := g.Wait()
		notify("STOPPING=1")
		return err
	}
	log.Info("playing scenario", "name", play.Name, "steps", len(play.Steps))
	playErr := play.Play(gctx, simu.world, played)
	var snapErr error
	if simu.snapshot != "" { // the final screen, before the display is halted
		snapErr = savePNG(simu.snapshot, simu.world.Snapshot(image.Pt(800, 480)))
	}
	stop()
	if err := errors.Join(g.Wait(), snapErr); err != nil {
		return err
	}
	if playErr != nil {
		return fmt.Errorf("scenario %s failed:\n%w", play.Name, playErr)
	}
	log.Info("scenario passed", "name", play.Name)
	return nil
}

// savePNG writes img to path, which the user named on the command line.
func savePNG(path string, img image.Image) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(fh, img); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
