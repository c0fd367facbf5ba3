package seal_test

import (
	"fmt"
	"time"

	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

func Example() {
	public, private, err := seal.GenerateKey() // the cloud keeps private
	if err != nil {
		panic(err)
	}
	sealer, _ := seal.NewSealer(public)
	req := wire.Request{ID: "req-1", Device: "kiosk-1", Flow: wire.FlowIdentify, Time: time.Now()}
	sealed, _ := sealer.Seal(seal.ContextOf(req, seal.PartPalm), []byte("palm record"))

	opener, _ := seal.NewOpener(private)
	plain, err := opener.Open(seal.ContextOf(req, seal.PartPalm), sealed)
	fmt.Printf("%s %v\n", plain, err)
	_, err = opener.Open(seal.ContextOf(req, seal.PartCard), sealed) // another part: refused
	fmt.Println(err)
	// Output:
	// palm record <nil>
	// seal: cannot open
}
