package main

import (
	"net"
	"os"
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
