package dev_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev"
)

// BenchmarkBundleDownloads: kiosks reading one 4 MiB bundle at the same
// time through one cloud instance's bundle service, over TCP on this
// machine (dev.Start). An operation is one whole bundle; -cpu sets how
// many kiosks read at once (b.SetParallelism(4): four per CPU).
func BenchmarkBundleDownloads(b *testing.B) {
	d, err := dev.Start(b.Context(), device, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	pub, priv, _ := ed25519.GenerateKey(nil)
	img := make([]byte, 4<<20)
	rand.Read(img)
	var bundle bytes.Buffer
	if _, err := secureboot.SignBundle(&bundle, priv, secureboot.Manifest{Product: "palmkiosk", Version: 2, Release: "1.0.2",
		Created: time.Unix(1_700_000_000, 0)}, bytes.NewReader(img)); err != nil {
		b.Fatal(err)
	}
	u, err := cloud.PublishBundle(b.Context(), d.CloudConn(), cloud.StoreOptions{Memory: true},
		secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk"}, "palmkiosk-2.bundle", bytes.NewReader(bundle.Bytes()))
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
