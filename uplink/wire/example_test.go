package wire_test

import (
	"crypto/ed25519"
	"fmt"
	"image"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

func ExampleSign() {
	pub, priv, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	signed, err := wire.Sign(priv, wire.Statement{
		Kind: wire.KindDecision, Device: "kiosk-1", Nonce: wire.NewNonce(), IssuedAt: now, Expires: now.Add(time.Minute),
		Decision: &wire.Decision{Request: "req-1", Outcome: wire.NotRecognized},
	})
	if err != nil {
		panic(err)
	}
	st, err := wire.Verify(pub, signed)
	fmt.Println(st.Decision.Outcome, err)
	// Output: not_recognized <nil>
}

func ExampleAppendCapture() {
	roi := image.NewGray(image.Rect(0, 0, 128, 128))
	rec := wire.AppendCapture(nil, roi) // seal this, then clear(rec)
	back, err := wire.ParseCapture(rec)
	fmt.Println(len(rec), back.Rect.Dx(), err)
	// Output: 16393 128 <nil>
}
