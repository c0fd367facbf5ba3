package cloud_test

import (
	"crypto/ed25519"
	"fmt"
	"image"
	"time"

	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

func ExampleCloud_Handle() {
	sealPub, sealPriv, _ := seal.GenerateKey()
	_, payPriv, _ := seal.GenerateKey()
	sealOpener, _ := seal.NewOpener(sealPriv)
	payOpener, _ := seal.NewOpener(payPriv)
	signPub, signPriv, _ := ed25519.GenerateKey(nil)
	c, err := cloud.New(cloud.Config{Seal: sealOpener, Payment: payOpener, SignKey: signPriv})
	if err != nil {
		panic(err)
	}

	// A kiosk's identify request with a sealed palm record.
	r := wire.Request{ID: "req-1", Device: "kiosk-1", Flow: wire.FlowIdentify, Time: time.Now()}
	sealer, _ := seal.NewSealer(sealPub)
	roi := image.NewGray(image.Rect(0, 0, 128, 128))
	for i := range roi.Pix {
		roi.Pix[i] = uint8(i * 13 % 251)
	}
	r.Palm, _ = sealer.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, roi))
	req, _ := wire.EncodeRequest(r)

	reply, err := c.Handle(wire.RequestSubject(r.Device, r.Flow), req)
	if err != nil {
		panic(err)
	}
	st, err := wire.Verify(signPub, reply)
	fmt.Println(st.Decision.Request, st.Decision.Outcome, err)
	// Output: req-1 not_recognized <nil>
}
