// Command palmcloud is the reference cloud for development, tests and demos:
// it answers kiosks' requests on a NATS server (see uplink/cloud).
//
//	palmcloud keygen -dir keys                 # seal, payment and signing keys; prints the kiosk config
//	palmcloud serve -url tls://host:4222 -creds cloud.creds -ca ca.pem -cert c.pem -key k.pem -keys keys
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "palmcloud:", err)
		os.Exit(1)
	}
}
