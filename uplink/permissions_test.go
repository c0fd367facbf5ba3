package uplink_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/dev/devtest"
	"github.com/palmd/palmd/uplink/wire"
)

// TestDevicePermissions proves a kiosk credential cannot publish or
// subscribe on another kiosk's subjects: the server refuses with a
// permissions violation and nothing reaches the other subject.
func TestDevicePermissions(t *testing.T) { devtest.Bubble(t, testDevicePermissions) }

func testDevicePermissions(t *testing.T) {
	r := newRig(t)
	creds, err := r.auth.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var violations []string
	nc, err := r.connect(nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				mu.Lock()
				violations = append(violations, err.Error())
				mu.Unlock()
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	seen := make(chan string, 8)
	if _, err := r.cloud.Subscribe("palm.>", func(m *nats.Msg) { seen <- m.Subject }); err != nil {
		t.Fatal(err)
	}
	if err := r.cloud.Flush(); err != nil {
		t.Fatal(err)
	}
	other := wire.TelemetrySubject("kiosk-2", "health")
	own := wire.TelemetrySubject(device, "health")
	if err := nc.Publish(other, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Subscribe(wire.CommandSubject("kiosk-2", wire.CmdConfig), func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(own, []byte("{}")); err != nil { // control: allowed
		t.Fatal(err)
	}
	nc.Flush()
	select {
	case s := <-seen:
		if s != own {
			t.Fatalf("cloud received %s: a kiosk published on another kiosk's subject", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the kiosk's own subject was not delivered")
	}
	settled(t, "two permission violations", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(violations) >= 2
	})
	mu.Lock()
	got := strings.ToLower(strings.Join(violations, "\n"))
	mu.Unlock()
	if !strings.Contains(got, "publish to \""+other) || !strings.Contains(got, "subscription to \"palm.cmd.kiosk-2") {
		t.Fatalf("violations:\n%s", got)
	}
	select {
	case s := <-seen:
		t.Fatalf("unexpected delivery on %s", s)
	default:
	}
}

// tcpServer is an embedded server on a loopback port, for the tests of the
// TLS handshake and of authorization: on the rig's in-memory pipe
// (synchronous, unbuffered) a server that refuses a client closes the pipe
// before the client has read why, and a refused handshake never ends.
// Nothing in these tests waits on time but the handshake.
func tcpServer(t *testing.T) (*dev.Authority, *server.Server) {
	t.Helper()
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dev.RunServer(auth, server.RANDOM_PORT, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return auth, srv
}

// TestForeignCredentialsRefused: credentials from another authority (other
// operator and CA) do not connect: the server refuses the client
// certificate in the TLS handshake.
func TestForeignCredentialsRefused(t *testing.T) {
	_, srv := tcpServer(t)
	foreign, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := foreign.Device(device)
	if err != nil {
		t.Fatal(err)
	}
	creds.TLS.RootCAs = nil
	creds.TLS.InsecureSkipVerify = true // only the server can refuse now
	nc, err := nats.Connect(srv.ClientURL(), nats.UserJWTAndSeed(creds.JWT, creds.Seed), nats.Secure(creds.TLS))
	if err == nil {
		nc.Close()
		t.Fatal("a foreign kiosk connected")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "tls") { // "tls: bad certificate", or the connection closed after the handshake
		t.Errorf("refused with %v, want the TLS handshake to refuse the certificate", err)
	}
}

// TestCertificateBoundToIdentity: kiosk A's client certificate with kiosk
// B's JWT and seed is refused by the server; each kiosk's own pair
// connects.
func TestCertificateBoundToIdentity(t *testing.T) {
	auth, srv := tcpServer(t)
	a, err := auth.Device("kiosk-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.Device("kiosk-b")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		jwtOf    dev.Credentials
		certOf   dev.Credentials
		connects bool
	}{
		{"kiosk-a's own", a, a, true},
		{"kiosk-b's own", b, b, true},
		{"a's certificate, b's credentials", b, a, false},
		{"b's certificate, a's credentials", a, b, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := nats.Connect(srv.ClientURL(), nats.UserJWTAndSeed(tt.jwtOf.JWT, tt.jwtOf.Seed), nats.Secure(tt.certOf.TLS))
			if err == nil {
				nc.Close()
			}
			if got := err == nil; got != tt.connects {
				t.Fatalf("connected = %v (err %v), want %v", got, err, tt.connects)
			}
			if !tt.connects && !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
				t.Errorf("refused with %v, want an authorization violation", err)
			}
		})
	}
}
