package callout

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// keys are an account, a signing key of it, another account and a user.
type keys struct {
	account, signing, other, user nkeys.KeyPair
	accountID, signingID, userID  string
}

func newKeys(t testing.TB) keys {
	t.Helper()
	var k keys
	for _, kp := range []*nkeys.KeyPair{&k.account, &k.signing, &k.other} {
		var err error
		if *kp, err = nkeys.CreateAccount(); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if k.user, err = nkeys.CreateUser(); err != nil {
		t.Fatal(err)
	}
	k.accountID, _ = k.account.PublicKey()
	k.signingID, _ = k.signing.PublicKey()
	k.userID, _ = k.user.PublicKey()
	return k
}

func (k keys) issuers() Issuers {
	return Issuers{Account: k.accountID, SigningKeys: []string{k.signingID}}
}

// userJWT signs a user JWT for k.user with signer.
func (k keys) userJWT(t testing.TB, signer nkeys.KeyPair, issuerAccount string, edit func(*jwt.UserClaims)) string {
	t.Helper()
	uc := jwt.NewUserClaims(k.userID)
	uc.Name = "kiosk-7"
	uc.Pub.Allow.Add("palm.req.kiosk-7.>")
	uc.Sub.Allow.Add("_INBOX.kiosk-7.>")
	uc.IssuerAccount = issuerAccount
	if edit != nil {
		edit(uc)
	}
	s, err := uc.Encode(signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// certNaming returns a self-signed certificate whose URI SANs are uris.
func certNaming(t testing.TB, uris ...*url.URL) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kiosk-7"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), URIs: uris}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerify(t *testing.T) {
	k := newKeys(t)
	other, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	otherID, _ := other.PublicKey()
	nonce := []byte("nonce-from-the-server")
	sign := func(kp nkeys.KeyPair, b []byte) string {
		sig, err := kp.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(sig)
	}
	good := Connection{JWT: k.userJWT(t, k.account, "", nil), Sig: sign(k.user, nonce), Nonce: nonce,
		Cert: certNaming(t, CertificateURI(k.userID))}
	with := func(edit func(*Connection)) Connection { c := good; edit(&c); return c }
	tests := []struct {
		name string
		c    Connection
		want Reason // "" for accepted
	}{
		{"own JWT and certificate", good, ""},
		{"JWT from the signing key", with(func(c *Connection) { c.JWT = k.userJWT(t, k.signing, k.accountID, nil) }), ""},
		{"standard base64 signature", with(func(c *Connection) {
			sig, _ := k.user.Sign(nonce)
			c.Sig = base64.StdEncoding.EncodeToString(sig)
		}), ""},
		{"certificate names other keys too", with(func(c *Connection) {
			c.Cert = certNaming(t, CertificateURI(otherID), CertificateURI(k.userID))
		}), ""},
		{"no JWT", with(func(c *Connection) { c.JWT = "" }), NoJWT},
		{"not a JWT", with(func(c *Connection) { c.JWT = "eyJ.garbage" }), JWTInvalid},
		{"JWT signature broken", with(func(c *Connection) { c.JWT = c.JWT[:len(c.JWT)-4] + "AAAA" }), JWTInvalid},
		{"another account's JWT", with(func(c *Connection) { c.JWT = k.userJWT(t, k.other, "", nil) }), JWTWrongIssuer},
		{"unknown signing key", with(func(c *Connection) { c.JWT = k.userJWT(t, k.other, k.accountID, nil) }), JWTWrongIssuer},
		{"signing key without issuer_account", with(func(c *Connection) { c.JWT = k.userJWT(t, k.signing, "", nil) }), JWTWrongIssuer},
		{"expired", with(func(c *Connection) {
			c.JWT = k.userJWT(t, k.account, "", func(uc *jwt.UserClaims) { uc.Expires = time.Now().Add(-time.Hour).Unix() })
		}), JWTNotValid},
		{"not yet valid", with(func(c *Connection) {
			c.JWT = k.userJWT(t, k.account, "", func(uc *jwt.UserClaims) { uc.NotBefore = time.Now().Add(time.Hour).Unix() })
		}), JWTNotValid},
		{"no signature", with(func(c *Connection) { c.Sig = "" }), SignatureInvalid},
		{"signature not base64", with(func(c *Connection) { c.Sig = "!!" }), SignatureInvalid},
		{"another nonce signed", with(func(c *Connection) { c.Sig = sign(k.user, []byte("other")) }), SignatureInvalid},
		{"signed by another user", with(func(c *Connection) { c.Sig = sign(other, nonce) }), SignatureInvalid},
		{"no nonce", with(func(c *Connection) { c.Nonce = nil }), SignatureInvalid},
		{"no certificate", with(func(c *Connection) { c.Cert = nil }), NoCertificate},
		{"certificate names another user", with(func(c *Connection) { c.Cert = certNaming(t, CertificateURI(otherID)) }), CertificateNamesOtherUser},
		{"certificate names no user", with(func(c *Connection) { c.Cert = certNaming(t) }), CertificateNamesOtherUser},
		{"user key under another scheme", with(func(c *Connection) {
			c.Cert = certNaming(t, &url.URL{Scheme: "spiffe", Opaque: k.userID})
		}), CertificateNamesOtherUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uc, err := k.issuers().Verify(tt.c)
			if tt.want == "" {
				if err != nil || uc == nil || uc.Subject != k.userID {
					t.Fatalf("Verify = %v, %v; want the user's claims", uc, err)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) || re.Reason != tt.want || uc != nil {
				t.Fatalf("Verify = %v, %v; want refusal %s", uc, err, tt.want)
			}
		})
	}
}

// request encodes an authorization request as a server signs it, for the
// connection c presenting cert (PEM, nil: no TLS).
func request(t testing.TB, server nkeys.KeyPair, serverXKey string, userNkey string, c Connection, certPEM []byte) []byte {
	t.Helper()
	spub, _ := server.PublicKey()
	rc := jwt.NewAuthorizationRequestClaims(spub)
	rc.Audience = "nats-authorization-request"
	rc.UserNkey = userNkey
	rc.Server = jwt.ServerID{Name: "palm-1", ID: spub, XKey: serverXKey}
	rc.ConnectOptions = jwt.ConnectOptions{JWT: c.JWT, SignedNonce: c.Sig}
	rc.ClientInformation.Nonce = string(c.Nonce)
	if certPEM != nil {
		rc.TLS = &jwt.ClientTLS{VerifiedChains: []jwt.StringList{{string(certPEM)}}}
	}
	rc.Expires = time.Now().Add(time.Hour).Unix()
	s, err := rc.Encode(server)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// answerFixture is a service, the server's keys and a kiosk's good
// connection, for Answer's tests.
type answerFixture struct {
	k        keys
	svc      *Service
	server   nkeys.KeyPair
	serverX  nkeys.KeyPair
	svcX     string
	conn     Connection
	certPEM  []byte
	assigned string // the user nkey the server assigns
}

func newAnswerFixture(t testing.TB, encrypt bool) answerFixture {
	t.Helper()
	f := answerFixture{k: newKeys(t)}
	var err error
	if f.server, err = nkeys.CreateServer(); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuers: f.k.issuers(), Signer: f.k.signing, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if encrypt {
		if f.serverX, err = nkeys.CreateCurveKeys(); err != nil {
			t.Fatal(err)
		}
		if cfg.XKey, err = nkeys.CreateCurveKeys(); err != nil {
			t.Fatal(err)
		}
		f.svcX, _ = cfg.XKey.PublicKey()
	}
	if f.svc, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	nonce := []byte("nonce")
	sig, _ := f.k.user.Sign(nonce)
	cert := certNaming(t, CertificateURI(f.k.userID))
	f.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	f.conn = Connection{JWT: f.k.userJWT(t, f.k.account, "", nil), Sig: base64.RawURLEncoding.EncodeToString(sig), Nonce: nonce}
	assigned, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	f.assigned, _ = assigned.PublicKey()
	return f
}

// ask sends a request with the given client certificate (nil: none) and
// decodes the answer as the server would.
func (f answerFixture) ask(t *testing.T, certPEM []byte) (*jwt.AuthorizationResponseClaims, error) {
	t.Helper()
	var hdr string
	if f.serverX != nil {
		hdr, _ = f.serverX.PublicKey()
	}
	data := request(t, f.server, hdr, f.assigned, f.conn, certPEM)
	if f.serverX != nil {
		var err error
		if data, err = f.serverX.Seal(data, f.svcX); err != nil {
			t.Fatal(err)
		}
	}
	out := f.svc.Answer(hdr, data)
	if out == nil {
		return nil, errors.New("no answer")
	}
	if f.serverX != nil {
		var err error
		if out, err = f.serverX.Open(out, f.svcX); err != nil {
			return nil, err
		}
	}
	return jwt.DecodeAuthorizationResponseClaims(string(out))
}

func TestAnswer(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		f := newAnswerFixture(t, encrypt)
		spub, _ := f.server.PublicKey()
		t.Run("allowed", func(t *testing.T) {
			rc, err := f.ask(t, f.certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Subject != f.assigned || rc.Audience != spub || rc.Error != "" || rc.Issuer != f.k.signingID || rc.IssuerAccount != f.k.accountID {
				t.Fatalf("response: subject %s audience %s error %q issuer %s issuer_account %s", rc.Subject, rc.Audience, rc.Error, rc.Issuer, rc.IssuerAccount)
			}
			uc, err := jwt.DecodeUserClaims(rc.Jwt)
			if err != nil {
				t.Fatal(err)
			}
			kiosk, _ := jwt.DecodeUserClaims(f.conn.JWT)
			if uc.Subject != f.assigned || uc.Name != kiosk.Name || uc.Issuer != f.k.signingID || uc.IssuerAccount != f.k.accountID ||
				!slices.Equal(uc.Pub.Allow, kiosk.Pub.Allow) || !slices.Equal(uc.Sub.Allow, kiosk.Sub.Allow) {
				t.Errorf("user: subject %s name %q issuer %s/%s pub %v sub %v; want the kiosk's %q %v %v",
					uc.Subject, uc.Name, uc.Issuer, uc.IssuerAccount, uc.Pub.Allow, uc.Sub.Allow, kiosk.Name, kiosk.Pub.Allow, kiosk.Sub.Allow)
			}
		})
		t.Run("no certificate", func(t *testing.T) {
			rc, err := f.ask(t, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Jwt != "" || rc.Error != string(NoCertificate) || rc.Subject != f.assigned {
				t.Errorf("response jwt %v error %q, want error %s", rc.Jwt != "", rc.Error, NoCertificate)
			}
		})
		t.Run("certificate not PEM", func(t *testing.T) {
			rc, err := f.ask(t, []byte("not pem"))
			if err != nil {
				t.Fatal(err)
			}
			if rc.Error != string(NoCertificate) {
				t.Errorf("error %q, want %s", rc.Error, NoCertificate)
			}
		})
	}
	t.Run("encrypted request to a service without xkey", func(t *testing.T) {
		f := newAnswerFixture(t, false)
		if out := f.svc.Answer("XAAAA", []byte("sealed")); out != nil {
			t.Errorf("answered %q", out)
		}
	})
	t.Run("request in clear to a service with xkey", func(t *testing.T) {
		f := newAnswerFixture(t, true)
		if out := f.svc.Answer("", request(t, f.server, "", f.assigned, f.conn, f.certPEM)); out != nil {
			t.Errorf("answered %q", out)
		}
	})
}

func TestNewConfig(t *testing.T) {
	k := newKeys(t)
	x, err := nkeys.CreateCurveKeys()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"account signs", Config{Issuers: Issuers{Account: k.accountID}, Signer: k.account}, true},
		{"signing key signs", Config{Issuers: k.issuers(), Signer: k.signing, XKey: x}, true},
		{"no account", Config{Signer: k.account}, false},
		{"no signer", Config{Issuers: k.issuers()}, false},
		{"signer is a user", Config{Issuers: k.issuers(), Signer: k.user}, false},
		{"signer unknown", Config{Issuers: k.issuers(), Signer: k.other}, false},
		{"xkey not a curve key", Config{Issuers: k.issuers(), Signer: k.account, XKey: k.user}, false},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); (err == nil) != tt.ok {
			t.Errorf("%s: New: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// FuzzAnswer feeds Answer what a server (or anyone who may publish on
// Subject) could send: it must not panic, and must never allow a request
// whose connection Verify refuses.
func FuzzAnswer(f *testing.F) {
	fx := newAnswerFixture(f, false)
	f.Add("", request(f, fx.server, "", fx.assigned, fx.conn, fx.certPEM))
	f.Add("", request(f, fx.server, "", fx.assigned, fx.conn, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")))
	f.Fuzz(func(t *testing.T, hdr string, data []byte) {
		out := fx.svc.Answer(hdr, data)
		if out == nil {
			return
		}
		rc, err := jwt.DecodeAuthorizationResponseClaims(string(out))
		if err != nil {
			t.Fatalf("answer does not decode: %v", err)
		}
		if rc.Jwt == "" {
			return
		}
		req, err := jwt.DecodeAuthorizationRequestClaims(string(data))
		if err != nil {
			t.Fatalf("allowed a request that does not decode: %v", err)
		}
		cert, err := verifiedLeaf(req.TLS)
		if err != nil {
			t.Fatalf("allowed without a certificate: %v", err)
		}
		if _, err := fx.k.issuers().Verify(Connection{JWT: req.ConnectOptions.JWT, Sig: req.ConnectOptions.SignedNonce,
			Nonce: []byte(req.ClientInformation.Nonce), Cert: cert}); err != nil {
			t.Fatalf("allowed a connection Verify refuses: %v", err)
		}
	})
}
