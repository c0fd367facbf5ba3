package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"go.bug.st/serial"
	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/pos"
)

// startPOS serves the point-of-sale link cfg names, if any, on the local
// socket and the serial line, and the simulated point of sale's line and
// listener (sim and l, nil in the production build; l takes the socket's
// place), under g until ctx ends.
func startPOS(ctx context.Context, g *errgroup.Group, cfg config.POS, sim io.ReadWriteCloser, l net.Listener, h pos.Handler, log *slog.Logger) error {
	if cfg.Listen == "" && cfg.Serial == "" && sim == nil && l == nil {
		return nil
	}
	srv := pos.NewServer(h, log.With("component", "pos"))
	if sim != nil {
		g.Go(func() error { return srv.ServeConn(ctx, sim) })
	}
	if l == nil && cfg.Listen != "" {
		var lc net.ListenConfig
		var err error
		if l, err = lc.Listen(ctx, "tcp", cfg.Listen); err != nil {
			return fmt.Errorf("pos.listen: %w", err)
		}
	}
	if l != nil {
		log.Info("point-of-sale link listening", "addr", l.Addr().String())
		g.Go(func() error { return srv.Serve(ctx, l) })
	}
	if cfg.Serial != "" {
		baud := cfg.Baud
		if baud == 0 {
			baud = 9600
		}
		p, err := serial.Open(cfg.Serial, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			return fmt.Errorf("pos.serial: %s: %w", cfg.Serial, err)
		}
		g.Go(func() error { return srv.ServeConn(ctx, p) })
	}
	return nil
}
