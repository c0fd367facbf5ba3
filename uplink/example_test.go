package uplink_test

import (
	"context"
	"fmt"
	"image"
	"time"

	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

func ExampleClient_Do() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := dev.Start(ctx, "kiosk-1", nil) // embedded NATS server and reference cloud
	if err != nil {
		panic(err)
	}
	defer d.Close()
	// Dial does not wait for the network; OnHealth tells when it is up.
	up := make(chan struct{}, 1)
	health := uplink.OnHealth(func(h uplink.Health) {
		if h.Connected {
			select {
			case up <- struct{}{}:
			default: // told already
			}
		}
	})
	c, err := uplink.Dial(d.URL, "kiosk-1", d.SignKey, append(d.ClientOptions(), health)...)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	sealer, err := seal.NewSealer(d.SealKey)
	if err != nil {
		panic(err)
	}

	roi := image.NewGray(image.Rect(0, 0, 128, 128)) // from roi.Extractor
	rec := wire.AppendCapture(nil, roi)
	r := wire.Request{ID: "req-1", Device: "kiosk-1", Flow: wire.FlowIdentify, Time: time.Now()}
	r.Palm, err = sealer.Seal(seal.ContextOf(r, seal.PartPalm), rec)
	clear(rec)
	if err != nil {
		panic(err)
	}
	select { // connected, or ctx gives up
	case <-up:
	case <-ctx.Done():
		panic(ctx.Err())
	}
	dec, err := c.Do(ctx, r)
	fmt.Println(dec.Outcome, err)
	// Output: not_recognized <nil>
}
