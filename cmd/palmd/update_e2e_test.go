//go:build sim

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/wire"
)

// runPalmd serves the simulated kiosk with the config file path until the
// returned stop is called; events are its stdout.
func runPalmd(t *testing.T, path string, logs io.Writer) (events <-chan bus.Event, stop func()) {
	t.Helper()
	return runPalmdConsole(t, path, logs, consoleFlags{})
}

// runPalmdConsole is runPalmd with a console served as con says.
func runPalmdConsole(t *testing.T, path string, logs io.Writer, con consoleFlags) (events <-chan bus.Event, stop func()) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ch := make(chan bus.Event, 256)
	go func() {
		defer close(ch)
		dec := json.NewDecoder(pr)
		for {
			var ev bus.Event
			if dec.Decode(&ev) != nil {
				return
			}
			ch <- ev
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, logger(cfg, logs), output{w: pw}, con, &simulation{world: sim.NewWorld()}, seams{})
		pw.Close()
	}()
	return ch, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("palmd: %v", err)
		}
		for range ch {
		}
	}
}

func awaitEvent(t *testing.T, events <-chan bus.Event, match func(bus.Event) bool, what string) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("palmd stopped before %s", what)
			}
			if match(ev) {
				return
			}
		case <-timeout:
			t.Fatalf("no %s", what)
		}
	}
}

// TestPalmdUpdatesAndRefusesReplays runs palmd (simulated parts) against a
// cloud: an update command from the cloud is fetched from the object store,
// installed, booted (in-process) and committed; a signed config command is
// applied and acknowledged; after a restart of palmd, the config command
// sent again, byte for byte, is refused as a replay.
func TestPalmdUpdatesAndRefusesReplays(t *testing.T) {
	if testing.Short() {
		t.Skip("runs palmd twice against a cloud")
	}
	e := newUpdateEnv(t)
	dir, config := e.config(t)
	doc := func(level string) []byte { return config(fmt.Sprintf(`"log_level": %q`, level)) }
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, doc("info"), 0o600); err != nil {
		t.Fatal(err)
	}
	rejected := make(chan string, 8)
	sub, err := e.dev.CloudConn().Subscribe(wire.TelemetrySubject(updateDevice, "uplink_rejected"), func(m *nats.Msg) {
		if ev, err := wire.DecodeEvent(m.Data); err == nil {
			rejected <- ev.Reason
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := e.dev.CloudConn().Flush(); err != nil { // the server knows the subscription before palmd starts
		t.Fatal(err)
	}
	serving := func(ev bus.Event) bool { return ev.Event == bus.Mode && ev.Mode == "serving" }
	is := func(event, reason string) func(bus.Event) bool {
		return func(ev bus.Event) bool { return ev.Event == event && ev.Reason == reason }
	}

	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("palmd log:\n%s", logs.String())
		}
	}()
	events, stop := runPalmd(t, path, logs)
	awaitEvent(t, events, serving, "serving mode")
	e.send(t, e.updates[2])
	awaitEvent(t, events, is(evUpdate, "committed:2"), "update committed:2")

	var signed bytes.Buffer
	if _, err := secureboot.SignConfig(&signed, e.priv, secureboot.Manifest{Product: "palmkiosk", Version: 1,
		Created: time.Unix(1_700_000_000, 0)}, doc("debug")); err != nil {
		t.Fatal(err)
	}
	cmd, err := e.dev.Cloud.Command(updateDevice, wire.Command{Type: wire.CmdConfig, Config: signed.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dev.CloudConn().Publish(wire.CommandSubject(updateDevice, wire.CmdConfig), cmd); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, events, is(evConfig, "applied:1"), "config applied:1")
	stop()
	if saved, _ := os.ReadFile(path); !bytes.Equal(saved, doc("debug")) {
		t.Fatalf("the signed config was not saved:\n%s", saved)
	}

	select {
	case reason := <-rejected:
		t.Fatalf("palmd rejected a command before its restart: %s", reason)
	default:
	}
	events, stop = runPalmd(t, path, logs) // restart
	defer stop()
	awaitEvent(t, events, serving, "serving mode after the restart")
	// Commands published directly are lost until the kiosk's subscription
	// is in place: send the same bytes until palmd answers.
	timeout := time.After(30 * time.Second)
	for answered := false; !answered; {
		if err := e.dev.CloudConn().Publish(wire.CommandSubject(updateDevice, wire.CmdConfig), cmd); err != nil {
			t.Fatal(err)
		}
		select {
		case reason := <-rejected:
			if reason != "command:replayed" {
				t.Fatalf("rejected as %s, want command:replayed", reason)
			}
			answered = true
		case <-time.After(100 * time.Millisecond):
		case <-timeout:
			t.Fatal("the replayed command was not rejected")
		}
	}
	// Commands are handled in order: had an earlier copy been taken, its
	// event would be out by now.
	for {
		select {
		case ev := <-events:
			if ev.Event == evConfig || ev.Event == bus.Command {
				t.Fatalf("palmd took the replayed command: %s %s", ev.Event, ev.Reason)
			}
			continue
		default:
		}
		break
	}
}

// TestPalmdServesWithoutItsState: a state directory palmd cannot open (a
// broken data partition, a missing TPM) is reported, and palmd serves
// instead of exiting, which under systemd would restart it, and reboot the
// kiosk, in a loop.
func TestPalmdServesWithoutItsState(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	cfg := fmt.Appendf(nil, `{"device_id": "kiosk-nostate", "hardware": "sim", "update": {"dir": %q}}`, filepath.Join(file, "palmd"))
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	events, stop := runPalmd(t, path, logs)
	defer stop()
	awaitEvent(t, events, func(ev bus.Event) bool { return ev.Event == evUpdate && ev.Reason == "failed:state" }, "update failed:state")
	awaitEvent(t, events, func(ev bus.Event) bool { return ev.Event == bus.Mode && ev.Mode == "serving" }, "serving mode")
}
