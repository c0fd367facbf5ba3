package main

// `palmd selftest` exercises every part of the kiosk once and prints one
// PASS/FAIL line per part. run.go calls
//
//	runSelftest(ctx, args, stdout, stderr) error
//
// with the arguments after "selftest"; it returns an error (exit code 1) if
// any part failed and a usageError (exit code 2) for a bad command line.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/palmd/palmd/firmware"
)

func runSelftest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return selftest(ctx, args, stdout, stderr, defaultSeams())
}

// selftest is runSelftest with the hardware seams given, for tests.
func selftest(ctx context.Context, args []string, stdout, stderr io.Writer, s seams) error {
	var f flags
	var pulse bool
	var timeout time.Duration
	// Quieter by default: the PASS/FAIL lines are the output.
	fs := newFlagSet("palmd selftest", &f, "warn", stderr)
	fs.BoolVar(&pulse, "pulse-gate", false, "also pulse the gate relay (only when nobody is at the gate)")
	fs.DurationVar(&timeout, "part-timeout", 5*time.Second, "longest each part's test may take")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	case err != nil:
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("selftest: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	log := logger(cfg, stderr)
	o := firmware.SelftestOptions{PulseGate: pulse, PartTimeout: timeout}
	var devs firmware.Devices
	if cfg.Hardware == "sim" {
		if devs, err = selftestSimDevices(); err != nil {
			return usageError{err}
		}
	} else {
		// Parts that cannot be opened fail their line; the others are
		// still tested.
		h, failed, err := openLinux(ctx, cfg.Linux, log, s)
		if err != nil {
			return fmt.Errorf("selftest: %w", err)
		}
		defer h.Close()
		devs, o.Unavailable = h.devs, failed
	}
	results := firmware.Selftest(ctx, devs, o)
	for _, r := range results {
		fmt.Fprintln(stdout, r)
	}
	if err := firmware.SelftestErr(results); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "selftest: all parts passed")
	return nil
}
