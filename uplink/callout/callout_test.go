package callout_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink/callout"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/wire"
)

// reasons records the reason of every refusal the service logs, and
// everything it logs, to check that no key material appears.
type reasons struct {
	mu   sync.Mutex
	seen []callout.Reason
	text strings.Builder
}

func (r *reasons) Enabled(context.Context, slog.Level) bool { return true }
func (r *reasons) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *reasons) WithGroup(string) slog.Handler            { return r }
func (r *reasons) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.text.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		r.text.WriteString(" " + a.String())
		if a.Key == "reason" {
			r.seen = append(r.seen, callout.Reason(a.Value.String()))
		}
		return true
	})
	r.text.WriteString("\n")
	return nil
}

func (r *reasons) all() ([]callout.Reason, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]callout.Reason(nil), r.seen...), r.text.String()
}

// region is a standalone region server started from
// uplink/dev/deploy/region.conf, with the callout service connected.
type region struct {
	deploy   string // uplink/dev/deploy (absolute)
	svc      *nats.Subscription
	url      string
	leafPort int
	auth     *dev.Authority
	co       dev.Callout
	logs     *reasons
}

// deployment writes the files the deployment configurations name into a
// new directory, the account JWT into the full resolver's directory (as a
// push would), plus extra; sets the variables they read and makes the
// directory the working one, as nats-server's would be. It returns the
// path of the configuration called name (uplink/dev/deploy).
func (r *region) deployment(t *testing.T, name string, extra map[string][]byte) string {
	t.Helper()
	f, err := r.auth.DeploymentFiles()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "jwt"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"operator.jwt": f.Operator, "ca.pem": f.CA, "server.pem": f.Cert,
		"server-key.pem": f.Key, filepath.Join("jwt", f.Account+".jwt"): r.co.AccountJWT}
	maps.Copy(files, extra)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SYSTEM_ACCOUNT", f.SystemAccount)
	t.Setenv("PALM_ACCOUNT", f.Account)
	t.Chdir(dir)
	return filepath.Join(r.deploy, name)
}

// startConf parses the configuration file conf in the working directory
// as nats-server does, checks that nothing but the file authenticates,
// lets edit adapt it to one process (ports), and starts the server.
func startConf(t *testing.T, conf string, edit func(*server.Options)) *server.Server {
	t.Helper()
	name := filepath.Base(conf)
	o, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if o.CustomClientAuthentication != nil || o.TLSConfig == nil || o.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || len(o.TrustedOperators) != 1 {
		t.Fatalf("%s: custom authentication %v, tls %v, operators %d", name, o.CustomClientAuthentication, o.TLSConfig != nil, len(o.TrustedOperators))
	}
	o.Host, o.Port = "127.0.0.1", server.RANDOM_PORT
	o.NoLog, o.NoSigs = true, true
	edit(o)
	srv, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.WaitForShutdown)
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatalf("%s: server did not start", name)
	}
	return srv
}

// startRegion starts a region server from region.conf alone on a random
// loopback port (no routes or JetStream; a leaf-node listener on a random
// port: the rest is the file's), and the callout service.
func startRegion(t *testing.T) *region {
	t.Helper()
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	co, err := auth.Callout()
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := filepath.Abs(filepath.Join("..", "dev", "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	r := &region{deploy: deploy, auth: auth, co: co, logs: &reasons{}}
	conf := r.deployment(t, "region.conf", nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	leafPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := startConf(t, conf, func(o *server.Options) {
		o.Cluster, o.Routes, o.JetStream = server.ClusterOpts{}, nil, false
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", leafPort
	})
	r.url, r.leafPort = srv.ClientURL(), leafPort
	r.svc = r.startService(t, r.url)
	return r
}

// startService connects a callout service to the server at url and
// returns its subscription. The service's own user is the account's only
// auth user: it connects without the callout.
func (r *region) startService(t *testing.T, url string) *nats.Subscription {
	t.Helper()
	signer, err := nkeys.FromSeed(r.co.Signer)
	if err != nil {
		t.Fatal(err)
	}
	xkey, err := nkeys.FromSeed(r.co.XKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := callout.New(callout.Config{Issuers: r.co.Issuers, Signer: signer, XKey: xkey, Logger: slog.New(r.logs)})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, nats.UserJWTAndSeed(r.co.Service.JWT, r.co.Service.Seed), nats.Secure(r.co.Service.TLS), nats.Timeout(20*time.Second))
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	t.Cleanup(nc.Close)
	sub, err := svc.Subscribe(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

// dial connects with the TLS certificate of certOf and the user JWT and
// seed given.
func (r *region) dial(certOf dev.Credentials, ujwt, seed string, opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(r.url, append([]nats.Option{nats.UserJWTAndSeed(ujwt, seed), nats.Secure(certOf.TLS),
		nats.MaxReconnects(0), nats.Timeout(20 * time.Second)}, opts...)...)
}

func (r *region) connect(t *testing.T, certOf dev.Credentials, ujwt, seed string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := r.dial(certOf, ujwt, seed, opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// kioskJWT signs a user JWT for kiosk's nkey with key (issuerAccount set
// when key is a signing key), with the permissions of kiosk id, expiring
// at expires (0: never).
func kioskJWT(t *testing.T, kiosk dev.Credentials, id string, key nkeys.KeyPair, issuerAccount string, expires int64) string {
	t.Helper()
	ukp, err := nkeys.FromSeed([]byte(kiosk.Seed))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(pub)
	uc.Name = id
	p, s := wire.DevicePermissions(id)
	uc.Pub.Allow.Add(p...)
	uc.Sub.Allow.Add(s...)
	uc.IssuerAccount = issuerAccount
	uc.Expires = expires
	ujwt, err := uc.Encode(key)
	if err != nil {
		t.Fatal(err)
	}
	return ujwt
}

// TestCertificateBoundByCallout runs the region's nats-server from its
// configuration (no CustomClientAuthentication) with the callout service:
// a kiosk with its own certificate and credentials is answered on its
// subjects; any other pairing, a JWT of another account or an expired one
// is refused; the kiosk's permissions are its JWT's.
func TestCertificateBoundByCallout(t *testing.T) {
	r := startRegion(t)
	cloudCreds, err := r.auth.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.auth.Device("kiosk-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.auth.Device("kiosk-b")
	if err != nil {
		t.Fatal(err)
	}
	// The cloud goes through the callout too: its certificate names its user.
	cloud := r.connect(t, cloudCreds, cloudCreds.JWT, cloudCreds.Seed)
	got := make(chan string, 16)
	if _, err := cloud.Subscribe("palm.req.*.>", func(m *nats.Msg) {
		got <- m.Subject
		if err := m.Respond([]byte("ok " + m.Subject)); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Flush(); err != nil {
		t.Fatal(err)
	}

	otherKP, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := nkeys.FromSeed(r.co.Signer)
	if err != nil {
		t.Fatal(err)
	}
	hourAgo := time.Now().Add(-time.Hour).Unix()
	refused := []struct {
		name      string
		cert      dev.Credentials
		jwt, seed string
		reason    callout.Reason // logged by the service; "" if the server refuses before asking it
	}{
		{"A's certificate with B's credentials", a, b.JWT, b.Seed, callout.CertificateNamesOtherUser},
		{"B's certificate with A's credentials", b, a.JWT, a.Seed, callout.CertificateNamesOtherUser},
		{"the cloud's certificate with A's credentials", cloudCreds, a.JWT, a.Seed, callout.CertificateNamesOtherUser},
		{"A's certificate, A's nkey, another account's JWT", a, kioskJWT(t, a, "kiosk-a", otherKP, "", 0), a.Seed, ""},
		{"A's certificate, A's nkey, expired JWT", a, kioskJWT(t, a, "kiosk-a", signer, r.co.Issuers.Account, hourAgo), a.Seed, ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := r.logs.all()
			nc, err := r.dial(tt.cert, tt.jwt, tt.seed)
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("err = %v, want %v", err, nats.ErrAuthorization)
			}
			after, _ := r.logs.all()
			var want []callout.Reason
			if tt.reason != "" {
				want = []callout.Reason{tt.reason}
			}
			if got := after[len(before):]; !slices.Equal(got, want) {
				t.Errorf("service logged %q, want %q", got, want)
			}
		})
	}

	// A kiosk JWT signed by the account's signing key is accepted too.
	for _, tt := range []struct {
		name string
		jwt  string
	}{
		{"own credentials", a.JWT},
		{"own nkey, JWT from the signing key", kioskJWT(t, a, "kiosk-a", signer, r.co.Issuers.Account, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			violations := make(chan error, 4)
			nc := r.connect(t, a, tt.jwt, a.Seed, nats.CustomInboxPrefix(wire.InboxPrefix("kiosk-a")),
				nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
			// Kiosk B's subject is not in A's permissions: the server drops
			// the message and says so.
			if err := nc.Publish(wire.RequestSubject("kiosk-b", wire.FlowIdentify), []byte("x")); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-violations:
				if !errors.Is(err, nats.ErrPermissionViolation) {
					t.Errorf("error %v, want a permissions violation", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no permissions violation for kiosk B's subject")
			}
			subj := wire.RequestSubject("kiosk-a", wire.FlowIdentify)
			resp, err := nc.Request(subj, []byte("x"), 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Data) != "ok "+subj {
				t.Errorf("answer %q", resp.Data)
			}
			// Messages from one publisher arrive in order: the first the
			// cloud saw is A's own request, so B's never reached it.
			if s := <-got; s != subj {
				t.Errorf("cloud received %q first, want %q", s, subj)
			}
		})
	}

	reasons, text := r.logs.all()
	if len(reasons) != 3 || strings.Count(text, "callout: allowed") != 3 || !strings.Contains(text, "callout: refused reason=certificate_names_other_user user=kiosk-b server=palm-1") {
		t.Errorf("service logged %d refusals, want 3 (one naming kiosk-b), and %d allowed, want 3 (cloud, kiosk-a twice):\n%s",
			len(reasons), strings.Count(text, "callout: allowed"), text)
	}
	// Without the service nobody but the service's user gets in.
	if err := r.svc.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if nc, err := r.dial(a, a.JWT, a.Seed); err == nil {
		nc.Close()
		t.Error("kiosk A connected with no callout service")
	}
	for _, secret := range []string{a.Seed, b.Seed, a.JWT, b.JWT, string(r.co.Signer), "BEGIN CERTIFICATE"} {
		if strings.Contains(text, secret) {
			t.Errorf("service log holds key material or a certificate:\n%s", text)
		}
	}
}

// TestLeafThroughCallout starts a store's leaf node from store-leaf.conf
// connected to the region: the leaf's own connection goes through the
// callout (its certificate names its user), and so do the kiosks
// connecting at the leaf: the leaf server's request crosses the leaf
// connection to the service at the region.
func TestLeafThroughCallout(t *testing.T) {
	r := startRegion(t)
	leafCreds, err := r.auth.Leaf("store-17")
	if err != nil {
		t.Fatal(err)
	}
	lf, err := leafCreds.Files()
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.auth.DeploymentFiles()
	if err != nil {
		t.Fatal(err)
	}
	conf := r.deployment(t, "store-leaf.conf", map[string][]byte{"store-17.creds": lf.Creds, "store-17.pem": lf.Cert, "store-17-key.pem": lf.Key})
	leaf := startConf(t, conf, func(o *server.Options) {
		if len(o.LeafNode.Remotes) != 1 || o.LeafNode.Remotes[0].LocalAccount != f.Account {
			t.Fatalf("store-leaf.conf: remotes %d", len(o.LeafNode.Remotes))
		}
		u := *o.LeafNode.Remotes[0].URLs[0]
		u.Host = fmt.Sprintf("127.0.0.1:%d", r.leafPort)
		o.LeafNode.Remotes[0].URLs = []*url.URL{&u}
		o.LeafNode.Remotes[0].TLSConfig.ServerName = "localhost"
	})
	for deadline := time.Now().Add(30 * time.Second); leaf.NumLeafNodes() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			_, text := r.logs.all()
			t.Fatalf("the leaf did not connect; service log:\n%s", text)
		}
	}
	// The leaf server asks in the account too, but the region denies the
	// leaf connection (as every connection of the account) publishing on
	// callout.Subject: a store runs its own instance of the service, at
	// the leaf.
	r.startService(t, leaf.ClientURL())
	a, err := r.auth.Device("kiosk-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.auth.Device("kiosk-b")
	if err != nil {
		t.Fatal(err)
	}
	cloudCreds, err := r.auth.Cloud()
	if err != nil {
		t.Fatal(err)
	}
	cloud := r.connect(t, cloudCreds, cloudCreds.JWT, cloudCreds.Seed)
	if _, err := cloud.Subscribe(wire.RequestSubject("*", ">"), func(m *nats.Msg) {
		if err := m.Respond([]byte("ok")); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := cloud.Flush(); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(leaf.ClientURL(), nats.UserJWTAndSeed(a.JWT, a.Seed), nats.Secure(a.TLS), nats.MaxReconnects(0),
		nats.Timeout(20*time.Second), nats.CustomInboxPrefix(wire.InboxPrefix("kiosk-a")))
	if err != nil {
		_, text := r.logs.all()
		t.Fatalf("kiosk at the leaf: %v; service log:\n%s", err, text)
	}
	defer nc.Close()
	// The cloud's subscription reaches the leaf once interest propagates:
	// retry "no responders" only.
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := nc.Request(wire.RequestSubject("kiosk-a", wire.FlowIdentify), nil, 20*time.Second)
		if errors.Is(err, nats.ErrNoResponders) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err != nil || string(resp.Data) != "ok" {
			t.Fatalf("request through the leaf: %v", err)
		}
		break
	}
	if nc, err := nats.Connect(leaf.ClientURL(), nats.UserJWTAndSeed(b.JWT, b.Seed), nats.Secure(a.TLS), nats.MaxReconnects(0), nats.Timeout(20*time.Second)); err == nil {
		nc.Close()
		t.Error("A's certificate with B's credentials connected at the leaf")
	}
	reasons, text := r.logs.all()
	if !strings.Contains(text, "callout: allowed user=store-17 server=palm-1") ||
		!strings.Contains(text, "callout: allowed user=kiosk-a server=store-17") ||
		!slices.Equal(reasons, []callout.Reason{callout.CertificateNamesOtherUser}) {
		t.Errorf("service log:\n%s", text)
	}
}
