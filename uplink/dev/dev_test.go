package dev_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"image"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
)

const device = "kiosk-test-1"

// startDev starts the embedded server and cloud in-process and connects
// the kiosk device; call it in a bubble (devtest.Bubble).
func startDev(t *testing.T, opts ...uplink.Option) (*dev.Dev, *uplink.Client) {
	t.Helper()
	d, err := dev.StartInProcess(t.Context(), device, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c := dial(t, d, device, opts...)
	if !c.Connected() {
		t.Fatal("the kiosk did not connect")
	}
	return d, c
}

// dial connects kiosk id to d with d's client options and opts, and
// returns once the connection has settled (connected or refused).
func dial(t *testing.T, d *dev.Dev, id string, opts ...uplink.Option) *uplink.Client {
	t.Helper()
	c, err := uplink.Dial(d.URL, id, d.SignKey, append(d.ClientOptions(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	synctest.Wait()
	return c
}

// connect connects to d's server as creds with a bare NATS connection,
// through the same in-memory pipe as the cloud's.
func connect(t *testing.T, d *dev.Dev, creds dev.Credentials) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(d.URL, nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS),
		nats.InProcessServer(d.CloudConn().Opts.InProcessServer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// request seals palm (and phone and card for enrolment) into a request.
func request(t *testing.T, d *dev.Dev, id string, f wire.Flow, palm *image.Gray) wire.Request {
	t.Helper()
	r := wire.Request{ID: id, Device: device, Flow: f, Time: time.Now()}
	s, err := seal.NewSealer(d.SealKey)
	if err != nil {
		t.Fatal(err)
	}
	pay, err := seal.NewSealer(d.PaymentKey)
	if err != nil {
		t.Fatal(err)
	}
	if r.Palm, err = s.Seal(seal.ContextOf(r, seal.PartPalm), wire.AppendCapture(nil, palm)); err != nil {
		t.Fatal(err)
	}
	if f == wire.FlowEnrol || f == wire.FlowDelete { // a deletion's second factor: the phone number
		if r.Phone, err = s.Seal(seal.ContextOf(r, seal.PartPhone), []byte("+15550100")); err != nil {
			t.Fatal(err)
		}
	}
	if f == wire.FlowEnrol {
		if r.Card, err = pay.Seal(seal.ContextOf(r, seal.PartCard), []byte("4111111111111111")); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func noise(seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, 128, 128))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

func TestEndToEndNoise(t *testing.T) { devtest.Bubble(t, testEndToEndNoise) }

func testEndToEndNoise(t *testing.T) {
	d, c := startDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	palm := noise(1)
	steps := []struct {
		flow wire.Flow
		want wire.Outcome
	}{
		{wire.FlowIdentify, wire.NotRecognized},
		{wire.FlowEnrol, wire.Approved},
		{wire.FlowEnrol, wire.Declined},
		{wire.FlowIdentify, wire.Approved},
		{wire.FlowDelete, wire.Approved},
		{wire.FlowIdentify, wire.NotRecognized},
	}
	for i, s := range steps {
		dec, err := c.Do(ctx, request(t, d, "req-"+string(rune('a'+i)), s.flow, palm))
		if err != nil {
			t.Fatalf("step %d %s: %v", i, s.flow, err)
		}
		if dec.Outcome != s.want {
			t.Fatalf("step %d %s: outcome %s (%s), want %s", i, s.flow, dec.Outcome, dec.Reason, s.want)
		}
	}
}

// TestNothingOnDisk runs the embedded server and cloud through a session
// with HOME, TMPDIR and the working directory in empty directories, and
// checks that nothing was written there.
func TestNothingOnDisk(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{}
	for _, name := range []string{"home", "tmp", "wd"} {
		dirs[name] = filepath.Join(root, name)
		if err := os.Mkdir(dirs[name], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", dirs["home"])
	t.Setenv("TMPDIR", dirs["tmp"])
	t.Chdir(dirs["wd"])

	devtest.Bubble(t, func(t *testing.T) {
		d, c := startDev(t)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for i, f := range []wire.Flow{wire.FlowEnrol, wire.FlowIdentify, wire.FlowDelete} {
			if _, err := c.Do(ctx, request(t, d, fmt.Sprint("req-", i), f, noise(3))); err != nil {
				t.Fatal(err)
			}
		}
		// Before Close (which removes JetStream's store directory) and after.
		walk := func(when string) {
			err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !e.IsDir() {
					t.Errorf("file written (%s): %s", when, path)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		walk("while running")
		c.Close()
		d.Close()
		walk("after Close")
	})
}

func TestCredentialFiles(t *testing.T) {
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := auth.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	files, err := creds.Files()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(files.Cert, files.Key); err != nil {
		t.Errorf("certificate and key do not pair: %v", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(files.CA) {
		t.Error("CA is not a PEM certificate")
	}
	if !bytes.Contains(files.Creds, []byte(creds.JWT)) || !bytes.Contains(files.Creds, []byte(creds.Seed)) {
		t.Error("creds file lacks the JWT or seed")
	}
}

// TestCommandFromCloud: a command the reference cloud signs reaches the
// kiosk's handler through the embedded server.
func TestCommandFromCloud(t *testing.T) { devtest.Bubble(t, testCommandFromCloud) }

func testCommandFromCloud(t *testing.T) {
	got := make(chan wire.Command, 1)
	d, _ := startDev(t, uplink.OnCommand(func(c wire.Command) { got <- c }))
	cmd := wire.Command{Type: wire.CmdDeleteMyData, Subject: "sub-1"}
	if err := d.Cloud.Send(d.CloudConn(), device, cmd); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-got:
		if g.Type != cmd.Type || g.Subject != cmd.Subject {
			t.Fatalf("received %+v, want %+v", g, cmd)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command never delivered")
	}
}

// TestCommandsWaitForOfflineKiosk: commands sent while the kiosk is
// offline arrive after it connects, in order and once each, also across
// a reconnection.
func TestCommandsWaitForOfflineKiosk(t *testing.T) {
	devtest.Bubble(t, testCommandsWaitForOfflineKiosk)
}

func testCommandsWaitForOfflineKiosk(t *testing.T) {
	d, err := dev.StartInProcess(t.Context(), device, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() }) // after the kiosk's (cleanups run last first)
	send := func(subjects ...string) {
		t.Helper()
		for _, s := range subjects {
			if err := d.Cloud.Send(d.CloudConn(), device, wire.Command{Type: wire.CmdDeleteMyData, Subject: s}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send("sub-1", "sub-2", "sub-3") // nobody connected yet
	got := make(chan string, 16)
	handler := uplink.OnCommand(func(c wire.Command) { got <- c.Subject })
	next := func(want string) string {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			js, _ := jetstream.New(d.CloudConn())
			cons, _ := js.PushConsumer(t.Context(), wire.CommandStream, wire.CommandConsumer(device))
			info, _ := cons.Info(t.Context())
			t.Fatalf("%s never delivered; consumer: pending %d ack-pending %d bound %v delivered %+v ack floor %+v redelivered %d", want,
				info.NumPending, info.NumAckPending, info.PushBound, info.Delivered, info.AckFloor, info.NumRedelivered)
			return ""
		}
	}
	c := dial(t, d, device, handler)
	for _, want := range []string{"sub-1", "sub-2", "sub-3"} {
		if s := next(want); s != want {
			t.Fatalf("received %s, want %s (in order, once)", s, want)
		}
	}
	c.Close()
	// The server has noticed once every goroutine waits: a command
	// delivered in the instant a kiosk disconnects would be redelivered
	// only after the consumer's AckWait.
	synctest.Wait()
	js, err := jetstream.New(d.CloudConn())
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.PushConsumer(t.Context(), wire.CommandStream, wire.CommandConsumer(device))
	if err != nil {
		t.Fatal(err)
	}
	if info := cons.CachedInfo(); info == nil || info.PushBound {
		t.Fatalf("the server still sees the closed kiosk's subscription (%+v)", info)
	}
	send("sub-4") // offline again
	dial(t, d, device, handler)
	send("sub-5")
	// Nothing handled before is delivered again: the next two are the new ones.
	for _, want := range []string{"sub-4", "sub-5"} {
		if s := next(want); s != want {
			t.Fatalf("after reconnecting received %s, want %s", s, want)
		}
	}
}

// TestReplyNotReflected: a kiosk that names another kiosk's inbox, command
// or telemetry subject as the reply of its request gets nothing sent
// there; the cloud refuses the request.
func TestReplyNotReflected(t *testing.T) { devtest.Bubble(t, testReplyNotReflected) }

func testReplyNotReflected(t *testing.T) {
	d, a := startDev(t)
	const other = "kiosk-test-2"
	bc, err := d.Authority.Device(other)
	if err != nil {
		t.Fatal(err)
	}
	b := connect(t, d, bc)
	leaked := make(chan string, 8)
	for _, subj := range []string{wire.InboxPrefix(other) + ".>", wire.CommandSubject(other, "*")} {
		if _, err := b.Subscribe(subj, func(m *nats.Msg) { leaked <- m.Subject }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.CloudConn().Subscribe(wire.TelemetrySubject(other, "*"), func(m *nats.Msg) { leaked <- m.Subject }); err != nil {
		t.Fatal(err)
	}

	ac, err := d.Authority.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	raw := connect(t, d, ac)
	replies := []string{wire.InboxPrefix(other) + ".x", wire.CommandSubject(other, wire.CmdConfig), wire.TelemetrySubject(other, "uplink_rejected")}
	for i, reply := range replies {
		body, err := wire.EncodeRequest(request(t, d, fmt.Sprint("reflect-", i), wire.FlowIdentify, noise(4)))
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.PublishRequest(wire.RequestSubject(device, wire.FlowIdentify), reply, body); err != nil {
			t.Fatal(err)
		}
	}
	synctest.Wait() // every request handled
	if st := d.Cloud.Stats(); st.Refused != uint64(len(replies)) {
		t.Fatalf("cloud stats %+v, want %d refused", st, len(replies))
	}
	// The kiosk's own request is still answered on its own inbox.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := a.Do(ctx, request(t, d, "own-1", wire.FlowIdentify, noise(4))); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	select {
	case s := <-leaked:
		t.Fatalf("the cloud published on %s for kiosk %s", s, device)
	default:
	}
	if st := d.Cloud.Stats(); st.Answered != 1 || st.Refused != uint64(len(replies)) {
		t.Errorf("cloud stats %+v, want exactly the kiosk's own request answered", st)
	}
}

// TestDeviceRefusesWildcards: a device id with a wildcard or separator
// would be granted other kiosks' subjects.
func TestDeviceRefusesWildcards(t *testing.T) {
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "*", ">", "k1.*", "a.b"} {
		if _, err := auth.Device(id); err == nil {
			t.Errorf("Device(%q) issued credentials", id)
		}
		if _, err := uplink.Dial("nats://127.0.0.1:1", id, make([]byte, 32)); err == nil {
			t.Errorf("Dial(%q) accepted the device id", id)
		}
	}
}

// TestInProcessInABubble: StartInProcess serves a kiosk through pipes
// inside a testing/synctest bubble, whose clock moves only when every
// goroutine waits (a socket would keep it still), and still refuses a
// kiosk whose credentials and certificate belong to different kiosks.
func TestInProcessInABubble(t *testing.T) { devtest.Bubble(t, testInProcessInABubble) }

func testInProcessInABubble(t *testing.T) {
	d, c := startDev(t)
	const other = "kiosk-test-2"
	oc, err := d.Authority.Device(other)
	if err != nil {
		t.Fatal(err)
	}
	// device's certificate (in ClientOptions) with other's credentials.
	if dial(t, d, other, uplink.UserJWT(oc.JWT, oc.Seed)).Connected() {
		t.Error("a kiosk with another kiosk's credentials connected in-process")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i, s := range []struct {
		flow wire.Flow
		want wire.Outcome
	}{{wire.FlowEnrol, wire.Approved}, {wire.FlowIdentify, wire.Approved}} {
		dec, err := c.Do(ctx, request(t, d, fmt.Sprint("bubble-", i), s.flow, noise(5)))
		if err != nil || dec.Outcome != s.want {
			t.Fatalf("%s: %s, %v; want %s", s.flow, dec.Outcome, err, s.want)
		}
	}
	if took := time.Since(start); took != 0 {
		t.Errorf("the bubble's clock moved %v while the cloud answered: something waited on more than a pipe", took)
	}
}
