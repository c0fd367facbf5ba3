//go:build !sim

package main

// This file is the production build: no simulator, no embedded server, no
// reference cloud. The same command built with -tags sim has them (sim.go).

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
)

// errNoSim is the answer to anything only the simulation build does.
var errNoSim = errors.New("hardware sim: this palmd is the production build, without the simulator " +
	"(set \"hardware\": \"linux\", or build with -tags sim)")

type simFlags struct{}

func (*simFlags) register(*flag.FlagSet) {}

func simUsage() string { return "" }

func hardwareKinds() []string { return []string{"linux"} }

// simulation does not exist in the production build; a nil one is never
// used.
type simulation struct{ play *struct{} }

func (simFlags) simulation(cfg config.Config) (*simulation, error) {
	if cfg.Hardware == "sim" {
		return nil, errNoSim
	}
	return nil, nil
}

func (*simulation) devices(clockwork.Clock) firmware.Devices { return firmware.Devices{} }

func (*simulation) posLine() io.ReadWriteCloser { return nil }

func (*simulation) posListener() net.Listener { return nil }

func (*simulation) patterns() rand.Source { return nil }

func (*simulation) attachCloud(*cloudLink) {}

// embeddedCloud: the production build never starts a cloud of its own.
const embeddedCloud = false

func startEmbeddedCloud(context.Context, config.Config, *slog.Logger, *cloudLink) ([]byte, []byte, error) {
	return nil, nil, errNoSim
}

type simEvent struct{}

func toSimEvent(bus.Event) simEvent { return simEvent{} }

func (*simulation) playScenario(context.Context, *slog.Logger, <-chan simEvent) error {
	return errNoSim
}

func selftestSimDevices() (firmware.Devices, error) { return firmware.Devices{}, errNoSim }

func (*simulation) cloud(c firmware.Cloud) firmware.Cloud { return c }

func (*simulation) eventSink() func(bus.Event) { return nil }

func (*simulation) startWeb(context.Context, *errgroup.Group, *firmware.Kiosk, *slog.Logger) error {
	return errNoSim
}

func (*simulation) staysUp() bool { return false }
