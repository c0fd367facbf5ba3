package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/drivers/cardreader/magstripe/magstripetest"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/console"
)

// idleKiosk is a serving kiosk with nobody at it, for the console and
// the updater.
type idleKiosk struct{}

func (idleKiosk) Status() firmware.Status { return firmware.Status{Mode: firmware.ModeServing} }
func (idleKiosk) Maintenance(bool)        {}
func (idleKiosk) Updating(bool)           {}
func (idleKiosk) Healthy() bool           { return true }
func (idleKiosk) DistanceMM() int         { return 0 }

// TestConsoleOnSerialPort serves the console on a pseudo-terminal opened
// as the UART is (go.bug.st/serial) and answers help before a login.
func TestConsoleOnSerialPort(t *testing.T) {
	master, slave := magstripetest.OpenPTY(t)
	srv, err := console.New(console.Options{DeviceID: "kiosk-test", Kiosk: idleKiosk{}, Bus: &bus.Bus{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		serveSerial(ctx, srv, slave, 115200, clockwork.NewRealClock(), slog.New(slog.DiscardHandler))
		close(done)
	}()
	if _, err := master.Write([]byte("help\r")); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	buf := make([]byte, 4096)
	read := make(chan error, 1)
	go func() {
		for !strings.Contains(got.String(), "status") {
			n, err := master.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				read <- err
				return
			}
		}
		read <- nil
	}()
	select {
	case err := <-read:
		if err != nil {
			t.Fatalf("reading the console: %v (%q)", err, got.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the console on the serial port did not answer help")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serveSerial did not return when its context ended")
	}
}
