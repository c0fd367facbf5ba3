package dev_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
)

// TestBundleSurvivesANodeKill: a kiosk half-way through a bundle keeps
// reading it while the cloud's bundle service stops, the server it was
// connected to is killed and another instance starts on another server a
// moment later. The bucket is replicated on all three servers. A request
// that finds no instance listening, or the bucket unavailable while a
// stream leader is elected, is sent again until one answers; the bytes
// read are the bundle's.
func TestBundleSurvivesANodeKill(t *testing.T) {
	auth, c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The cloud on server 1 first, failing over to the others.
	cc, _ := auth.Cloud()
	nc, err := nats.Connect(c.URL(0)+","+c.URL(1)+","+c.URL(2), nats.UserJWTAndSeed(cc.JWT, cc.Seed), nats.Secure(cc.TLS),
		nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	bundle, policy := signedBundle(t, 2<<20)
	u, err := cloud.PublishBundle(ctx, nc, cloud.StoreOptions{Replicas: 3}, policy, "palmkiosk-3.bundle", bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(nc *nats.Conn) *cloud.Bundles {
		t.Helper()
		b, err := cloud.ServeBundles(nc, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			nc.Close()
			b.Wait()
		})
		return b
	}
	bundles := serve(nc)

	// The kiosk on servers 2 and 3, which stay up.
	creds, _ := auth.Device(device)
	signPub, _, _ := ed25519.GenerateKey(nil) // no decisions are asked for
	k, err := uplink.Dial(c.URL(1)+","+c.URL(2), device, signPub, creds.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for !k.Connected() {
		if ctx.Err() != nil {
			t.Fatal("the kiosk never connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rc, err := k.Bundle(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := make([]byte, u.Size)
	if _, err := io.ReadFull(rc, got[:512<<10]); err != nil { // the first reply's bytes
		t.Fatal(err)
	}
	// The instance stops and its server dies; the kiosk reads on.
	if err := bundles.Drain(); err != nil {
		t.Fatal(err)
	}
	for bundles.IsValid() {
		time.Sleep(10 * time.Millisecond)
	}
	bundles.Wait()
	c.Kill(0)
	rest := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(rc, got[512<<10:])
		rest <- err
	}()
	time.Sleep(200 * time.Millisecond) // no instance listens meanwhile
	nc2, err := nats.Connect(c.URL(2)+","+c.URL(1), nats.UserJWTAndSeed(cc.JWT, cc.Seed), nats.Secure(cc.TLS))
	if err != nil {
		t.Fatal(err)
	}
	serve(nc2)
	if err := <-rest; err != nil {
		t.Fatalf("after the instance stopped and server 1 was killed: %v", err)
	}
	if n, err := rc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the bundle: %d bytes, %v; want io.EOF", n, err)
	}
	if !bytes.Equal(got, bundle) {
		t.Error("the bytes read are not the bundle's")
	}
}

// BenchmarkBundleDownloads: readers on one kiosk's connection reading a 4
// MiB bundle at the same time through one cloud instance's bundle service,
// over TCP on this machine (dev.Start). An operation is one whole bundle;
// four readers per CPU (b.SetParallelism(4)).
func BenchmarkBundleDownloads(b *testing.B) {
	d, err := dev.Start(b.Context(), device, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	bundle, policy := signedBundle(b, 4<<20)
	u, err := cloud.PublishBundle(b.Context(), d.CloudConn(), cloud.StoreOptions{Memory: true}, policy, "palmkiosk-2.bundle", bytes.NewReader(bundle))
	if err != nil {
		b.Fatal(err)
	}
	c, err := uplink.Dial(d.URL, device, d.SignKey, d.ClientOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(u.Size)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rc, err := c.Bundle(b.Context(), u)
			if err != nil {
				b.Error(err)
				return
			}
			n, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil || n != u.Size {
				b.Errorf("read %d of %d bytes: %v", n, u.Size, err)
				return
			}
		}
	})
}

// signedBundle returns a firmware bundle of version 3 around an image of n
// random bytes, signed by a new key, and the policy that trusts that key.
func signedBundle(tb testing.TB, n int) ([]byte, secureboot.Policy) {
	tb.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	img := make([]byte, n)
	rand.Read(img)
	var b bytes.Buffer
	if _, err := secureboot.SignBundle(&b, priv, secureboot.Manifest{Product: "palmkiosk", Version: 3, Release: "1.0.3",
		Created: time.Unix(1_700_000_000, 0)}, bytes.NewReader(img)); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes(), secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}
}
