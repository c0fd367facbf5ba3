package main

// The technician's console (package firmware/console) on the kiosk's UART
// and on a unix socket only root reaches.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.bug.st/serial"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
)

// consoleFlags say where the console is served. Who may log in is the
// signed config's console.technicians.
type consoleFlags struct {
	socket, serial, logFile string
	baud                    int
}

func (f *consoleFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.socket, "console-socket", "", "serve the console on a unix socket at `path` (mode 0600, root only)")
	fs.StringVar(&f.serial, "console-serial", "", "serve the console on a serial `device` (the kiosk's UART)")
	fs.IntVar(&f.baud, "console-baud", 115200, "the console's serial line speed")
	fs.StringVar(&f.logFile, "console-log-file", "", "keep the console's log lines (redacted) in `file` too, across restarts")
}

func (f consoleFlags) enabled() bool { return f.socket != "" || f.serial != "" }

// withLogRing returns log teed into an in-memory ring buffer for the
// console's logs command (nil when no console is served).
func (f consoleFlags) withLogRing(log *slog.Logger, level slog.Leveler) (*slog.Logger, *console.Ring) {
	if !f.enabled() {
		return log, nil
	}
	ring := console.NewRing(0)
	if f.logFile != "" {
		// Without the file the console still has the lines since start.
		if err := ring.Persist(f.logFile); err != nil {
			log.Warn("console logs will not survive a restart", "err", err)
		}
	}
	return slog.New(slog.NewMultiHandler(log.Handler(), ring.Handler(level))), ring
}

// consoleDeps is what the console reports on and drives.
type consoleDeps struct {
	cfg   config.Config
	log   *slog.Logger
	ring  *console.Ring
	kiosk *firmware.Kiosk
	bus   *bus.Bus
	devs  firmware.Devices
	up    *cloudLink
	sim   console.Stimulator
	clock clockwork.Clock

	// provision installs credentials and config; nil once provisioned.
	provision console.Provisioner
	// updates is the A/B updater, if palmd's state opened.
	updates *updateDriver
}

// slot is the A/B slot booted, "" if palmd has no updater.
func (d consoleDeps) slot() string {
	if d.updates == nil {
		return ""
	}
	st, err := d.updates.status(context.Background())
	if err != nil {
		return ""
	}
	return string(st.Booted)
}

// consoleKeys are the technicians a config allows (Load has checked them).
func consoleKeys(c config.Console) []console.Key {
	keys := make([]console.Key, 0, len(c.Technicians))
	for _, t := range c.Technicians {
		keys = append(keys, console.Key{Name: t.Name, Role: console.Role(t.Role), Pub: t.PublicKey()})
	}
	return keys
}

// newConsole returns the console, not yet served (nil if none is
// configured): a signed config that arrives before it is served already
// replaces its keys.
func newConsole(f consoleFlags, d consoleDeps) (*console.Server, error) {
	if !f.enabled() {
		return nil, nil
	}
	keys := consoleKeys(d.cfg.Console)
	if len(keys) == 0 {
		d.log.Warn("console: no console.technicians in the config: nobody can log in")
	}
	return console.New(console.Options{
		DeviceID: d.cfg.DeviceID,
		Keys:     keys,
		Kiosk:    d.kiosk,
		Bus:      d.bus,
		Devices:  d.devs,
		Versions: map[string]string{"palmd": version},
		Cloud:    d.up.link,
		Slot:     d.slot,
		Network:  network,
		Missing:  d.cfg.Missing,
		Reboot:   func() error { return askReboot(context.Background()) },
		Sim:      d.sim,
		Logs:     d.ring,
		Audit:    d.log.With("component", "console_audit"),
		Clock:    d.clock,

		Provision: d.provision,
	})
}

// serveConsole opens the console's socket and serial port (if configured)
// and serves srv on them in g until ctx ends.
func serveConsole(ctx context.Context, g *errgroup.Group, f consoleFlags, srv *console.Server, ring *console.Ring, clock clockwork.Clock, log *slog.Logger) error {
	if srv == nil {
		return nil
	}
	g.Go(func() error {
		srv.Run(ctx)
		return ring.Close()
	})
	if f.socket != "" {
		l, err := listenUnix(f.socket)
		if err != nil {
			return err
		}
		g.Go(func() error { return serveSocket(ctx, srv, l, log) })
	}
	if f.serial != "" {
		g.Go(func() error { serveSerial(ctx, srv, f.serial, f.baud, clock, log); return nil })
	}
	log.Info("console served", "socket", f.socket, "serial", f.serial)
	return nil
}

// listenUnix listens on a fresh socket at path that only palmd's user (root
// on the kiosk) may connect to.
func listenUnix(path string) (*net.UnixListener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("console socket %s: removing the old one: %w", path, err)
	}
	// The socket is created with mode 0600 (umask), never wider.
	old := unix.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	return l, nil
}

// serveSocket serves one session per connection of root or palmd's user.
func serveSocket(ctx context.Context, srv *console.Server, l *net.UnixListener, log *slog.Logger) error {
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("console socket: %w", err)
		}
		if uid, err := peerUID(c); err != nil || uid != 0 && uid != os.Getuid() {
			log.Warn("console socket: connection refused", "uid", uid, "err", err)
			c.Close()
			continue
		}
		go func() {
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			if err := srv.Serve(ctx, c); err != nil && ctx.Err() == nil {
				log.Debug("console session ended", "err", err)
			}
		}()
	}
}

func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid := -1
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			credErr = err
			return
		}
		uid = int(cred.Uid)
	})
	return uid, errors.Join(err, credErr)
}

// serveSerial serves the console on the UART, reopening it (every few
// seconds) when it fails or goes away.
func serveSerial(ctx context.Context, srv *console.Server, dev string, baud int, clock clockwork.Clock, log *slog.Logger) {
	for ctx.Err() == nil {
		p, err := serial.Open(dev, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err == nil {
			stop := context.AfterFunc(ctx, func() { p.Close() })
			err = srv.Serve(ctx, p)
			stop()
			p.Close()
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("console serial port", "device", dev, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-clock.After(3 * time.Second):
		}
	}
}

// network lists the interfaces, their state and addresses.
func network() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, i := range ifs {
		state := "down"
		if i.Flags&net.FlagUp != 0 {
			state = "up"
		}
		addrs, _ := i.Addrs()
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%-8s %-4s %s", i.Name, state, strings.Join(as, " "))))
	}
	return lines, nil
}
