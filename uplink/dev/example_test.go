package dev_test

import (
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/wire"
)

// ExampleAuthority provisions a server and a second kiosk by hand, as tests
// that restart the server do.
func ExampleAuthority() {
	auth, err := dev.NewAuthority()
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "example-jetstream-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := dev.RunServer(auth, server.RANDOM_PORT, dir)
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	creds, err := auth.Device("kiosk-2") // pass creds.Options() to uplink.Dial
	if err != nil {
		panic(err)
	}
	pub, sub := wire.DevicePermissions("kiosk-2")
	fmt.Println(creds.JWT != "", pub, sub)
	// Output: true [palm.req.kiosk-2.> palm.tel.kiosk-2.> $JS.ACK.PALM_CMD.cmd-kiosk-2.> palm.bundle.kiosk-2] [_INBOX.kiosk-2.> palm.cmd.kiosk-2.>]
}
