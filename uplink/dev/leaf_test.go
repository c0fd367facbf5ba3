package dev_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

// TestKioskThroughLeaf: a store's leaf node connects to the region's
// server; the cloud runs at the region, the kiosk connects only to the
// leaf with its own credentials, and enrols, identifies and receives a
// queued command through it. Kiosk A's certificate with kiosk B's
// credentials is refused at the leaf too.
func TestKioskThroughLeaf(t *testing.T) {
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	o, err := auth.ServerOptions(server.RANDOM_PORT)
	if err != nil {
		t.Fatal(err)
	}
	o.JetStream, o.StoreDir = true, t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	leafPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	auth.AcceptLeafNodes(o, leafPort)
	hub, err := dev.StartServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Shutdown) // after the cloud's cleanups
	leaf, err := auth.StartLeaf("store-17", fmt.Sprintf("tls://127.0.0.1:%d", leafPort), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(leaf.Shutdown)

	// The cloud at the region.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tc := startCloud(ctx, t, auth, hub.ClientURL(), cloud.StoreOptions{Memory: true})
	cl, nc, signPub := tc.cloud, tc.nc, tc.signPub
	if err := cl.Send(nc, "kiosk-s17-1", wire.Command{Type: wire.CmdDeleteMyData, Subject: "sub-9"}); err != nil {
		t.Fatal(err)
	}

	// The kiosk at the store, on the leaf only.
	creds, err := auth.Device("kiosk-s17-1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.Device("kiosk-s17-2")
	if err != nil {
		t.Fatal(err)
	}
	if bad, err := nats.Connect(leaf.ClientURL(), nats.UserJWTAndSeed(other.JWT, other.Seed), nats.Secure(creds.TLS)); err == nil {
		bad.Close()
		t.Error("the leaf accepted kiosk-s17-1's certificate with kiosk-s17-2's credentials")
	}
	cmds := make(chan wire.Command, 4)
	k, err := uplink.Dial(leaf.ClientURL(), "kiosk-s17-1", signPub, append(creds.Options(),
		uplink.OnCommand(func(c wire.Command) { cmds <- c }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	sealer, pay := tc.palm, tc.card
	do := func(id string, f wire.Flow) wire.Decision {
		t.Helper()
		r := wire.Request{ID: id, Device: "kiosk-s17-1", Flow: f, Time: time.Now()}
		r.Palm, _ = sealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, noise(8)))
		if f == wire.FlowEnrol {
			r.Phone, _ = sealer.Seal(seal.ContextOf(r, seal.PartPhone), []byte("+15550100"))
			r.Card, _ = pay.Seal(seal.ContextOf(r, seal.PartCard), []byte("4111111111111111"))
		}
		for {
			d, err := k.Do(ctx, r)
			if errors.Is(err, uplink.ErrNotConnected) || errors.Is(err, uplink.ErrNoCloud) { // the leaf may still be connecting
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("%s through the leaf: %v", f, err)
			}
			return d
		}
	}
	enrolled := do("leaf-1", wire.FlowEnrol)
	if enrolled.Outcome != wire.Approved {
		t.Fatalf("enrol through the leaf: %+v", enrolled)
	}
	if d := do("leaf-2", wire.FlowIdentify); d.Outcome != wire.Approved || d.Subject != enrolled.Subject {
		t.Fatalf("identify through the leaf: %+v, want %s", d, enrolled.Subject)
	}
	select {
	case c := <-cmds:
		if c.Subject != "sub-9" {
			t.Fatalf("queued command %+v", c)
		}
	case <-ctx.Done():
		t.Fatal("the command queued before the kiosk connected never came through the leaf")
	}
}
