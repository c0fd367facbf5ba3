package dev_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// TestClusterNodeKilled: a three-server cluster with the cloud's buckets
// replicated on all three; with one server killed, a kiosk connected to it
// reconnects to another and the person enrolled before is still known;
// the server restarts with its storage.
func TestClusterNodeKilled(t *testing.T) {
	auth, c := startCluster(t)
	// The cloud on server 1, the kiosk on server 2, which is killed.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tc := startCloud(ctx, t, auth, c.URL(0), cloud.StoreOptions{Replicas: 3})
	cl, signPub := tc.cloud, tc.signPub
	subject, err := cl.Import(mustTemplate(t, noise(21)))
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := auth.Device(device)
	k, err := uplink.Dial(c.URL(1)+","+c.URL(2), device, signPub, append(creds.Options(),
		uplink.Reconnect(50*time.Millisecond, 10*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	sealer := tc.palm
	identify := func(id string) wire.Decision {
		t.Helper()
		r := wire.Request{ID: id, Device: device, Flow: wire.FlowIdentify, Time: time.Now()}
		r.Palm, _ = sealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, noise(21)))
		for {
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			d, err := k.Do(rctx, r)
			rcancel()
			if errors.Is(err, uplink.ErrNotConnected) || errors.Is(err, uplink.ErrNoCloud) || errors.Is(err, context.DeadlineExceeded) {
				if ctx.Err() != nil {
					t.Fatalf("identify %s: %v", id, err)
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("identify %s: %v", id, err)
			}
			return d
		}
	}
	if d := identify("before"); d.Subject != subject {
		t.Fatalf("before the kill: %+v, want %s", d, subject)
	}
	c.Kill(1)
	if d := identify("during"); d.Subject != subject {
		t.Fatalf("with server 2 killed: %+v, want %s", d, subject)
	}
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	if c.Server(1) == nil {
		t.Fatal("server 2 not running after Restart")
	}
}

// startCluster starts a three-server cluster trusting a new authority,
// shut down once the test's later cleanups have run. It skips the test
// under -short.
func startCluster(t *testing.T) (*dev.Authority, *dev.Cluster) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a three-server cluster")
	}
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	c, err := dev.StartCluster(auth, 3, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown) // after the cloud's cleanups
	return auth, c
}

// testCloud is a reference cloud with fresh keys, serving through one
// server.
type testCloud struct {
	cloud      *cloud.Cloud
	nc         *nats.Conn
	palm, card *seal.Sealer // seal to the cloud's palm and payment keys
	signPub    ed25519.PublicKey
}

// startCloud opens a reference cloud on url with store, serving until the
// test ends.
func startCloud(ctx context.Context, t *testing.T, auth *dev.Authority, url string, store cloud.StoreOptions) testCloud {
	t.Helper()
	sp, sk, _ := seal.GenerateKey()
	pp, pk, _ := seal.GenerateKey()
	so, _ := seal.NewOpener(sk)
	po, _ := seal.NewOpener(pk)
	signPub, signPriv, _ := ed25519.GenerateKey(nil)
	cl, err := cloud.New(cloud.Config{Seal: so, Payment: po, SignKey: signPriv})
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := auth.Cloud()
	nc, err := nats.Connect(url, nats.UserJWTAndSeed(cc.JWT, cc.Seed), nats.Secure(cc.TLS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := cl.Open(ctx, nc, store); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if _, err := cl.Subscribe(nc); err != nil {
		t.Fatal(err)
	}
	palm, _ := seal.NewSealer(sp)
	card, _ := seal.NewSealer(pp)
	return testCloud{cloud: cl, nc: nc, palm: palm, card: card, signPub: signPub}
}

func mustTemplate(t *testing.T, img *image.Gray) match.Template {
	t.Helper()
	tp, err := match.NewTemplate(img)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}
