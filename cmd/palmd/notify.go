package main

import (
	"context"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"
)

// notify sends a systemd notification (READY=1, STOPPING=1, WATCHDOG=1). It
// is silent without NOTIFY_SOCKET, as when palmd runs outside systemd.
func notify(state string) {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	conn.Write([]byte(state))
}

// watchdog feeds systemd's watchdog (WATCHDOG_USEC) at half its interval, but
// only while healthy() holds: the kiosk's loop makes progress. A wedged
// loop or session is restarted.
func watchdog(ctx context.Context, clock clockwork.Clock, healthy func() bool) {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return
	}
	t := clock.NewTicker(time.Duration(usec) * time.Microsecond / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			if healthy() {
				notify("WATCHDOG=1")
			}
		}
	}
}
