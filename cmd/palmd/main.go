// Command palmd is the palm kiosk daemon. See the package doc in doc.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "palmd:", err)
		var u usageError
		if errors.Is(err, errProvisioned) {
			os.Exit(exitProvisioned)
		}
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
