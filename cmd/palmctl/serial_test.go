package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/drivers/cardreader/magstripe/magstripetest"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/console"
)

type servingKiosk struct{}

func (servingKiosk) Status() firmware.Status {
	return firmware.Status{Mode: firmware.ModeServing, Counters: map[string]int{"outcome_approved": 3}}
}
func (servingKiosk) Maintenance(bool) {}
func (servingKiosk) DistanceMM() int  { return 0 }

// TestOverSerialPort runs palmctl over a serial line (a pseudo-terminal
// whose other end a console serves): it logs in with its key file and
// prints the answer as text and as JSON.
func TestOverSerialPort(t *testing.T) {
	master, slave := magstripetest.OpenPTY(t)
	// The line stays up between the two runs (each closes its end), as a
	// UART does: without this the pseudo-terminal hangs up.
	hold, err := os.OpenFile(slave, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	dir := t.TempDir()
	key := filepath.Join(dir, "tech.key")
	tech, _, err := writeKey(key, "tech", console.RoleTechnician)
	if err != nil {
		t.Fatal(err)
	}
	keys := []console.Key{{Name: tech.Name, Role: console.Role(tech.Role), Pub: tech.PublicKey()}}
	srv, err := console.New(console.Options{DeviceID: "kiosk-serial", Keys: keys, Kiosk: servingKiosk{}, Bus: &bus.Bus{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx, master) }()
	for _, tt := range []struct{ cmd, want string }{
		{"status", "decisions approved         3"},
		{"status --json", `"by_outcome":{"approved":3}`},
	} {
		var out, errs strings.Builder
		err := run(ctx, append([]string{"-serial", slave, "-key", key, "-user", "tech"}, strings.Fields(tt.cmd)...), &out, &errs)
		if err != nil || !strings.Contains(out.String(), tt.want) {
			t.Errorf("palmctl %s over %s: %v, %q; want %q", tt.cmd, slave, err, out.String(), tt.want)
		}
	}
}
