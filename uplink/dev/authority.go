package dev

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink"
	"github.com/palmd/palmd/uplink/wire"
)

// Authority is an in-memory NATS trust chain (operator → account → users)
// and TLS certificate authority, the same CA for clients and servers.
// Nothing it makes touches the disk but what WriteFiles writes (its
// Issuer's files, for a tool that mints kiosks for the region: palmload
// -url).
type Authority struct {
	Issuer    // mints the users (Device) and certificates
	operator  *jwt.OperatorClaims
	opKey     nkeys.KeyPair // signs account JWTs (callout.go)
	opJWT     string
	accountJW string
	systemID  string // the system account JetStream clustering needs
	systemJW  string
	server    tls.Certificate
}

// Credentials are one NATS user's identity: user JWT, nkey seed and a TLS
// configuration holding its client certificate.
type Credentials struct {
	JWT  string
	Seed string
	TLS  *tls.Config

	serverCA []byte // PEM
}

// Options returns the uplink options that authenticate with c.
func (c Credentials) Options() []uplink.Option {
	return []uplink.Option{uplink.UserJWT(c.JWT, c.Seed), uplink.TLSConfig(c.TLS)}
}

// NewAuthority creates a fresh operator, account and certificate authority.
func NewAuthority() (*Authority, error) {
	okp, err := nkeys.CreateOperator()
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	opub, _ := okp.PublicKey()
	skp, err := nkeys.CreateAccount()
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	spub, _ := skp.PublicKey()
	sc := jwt.NewAccountClaims(spub)
	sc.Name = "SYS"
	sjwt, err := sc.Encode(okp)
	if err != nil {
		return nil, fmt.Errorf("dev: system account: %w", err)
	}
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "palmd-dev"
	oc.SystemAccount = spub
	ojwt, err := oc.Encode(okp)
	if err != nil {
		return nil, fmt.Errorf("dev: operator: %w", err)
	}
	operator, err := jwt.DecodeOperatorClaims(ojwt)
	if err != nil {
		return nil, fmt.Errorf("dev: operator: %w", err)
	}
	akp, err := nkeys.CreateAccount()
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Name = "PALM"
	// JetStream holds enrolments, answered requests and queued commands.
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	if err != nil {
		return nil, fmt.Errorf("dev: account: %w", err)
	}
	a := &Authority{Issuer: Issuer{account: akp, accountID: apub, serverName: "localhost"},
		operator: operator, opKey: okp, opJWT: ojwt, accountJW: ajwt, systemID: spub, systemJW: sjwt}
	if err := a.makeCA(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Authority) makeCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "palmd dev CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("dev: CA: %w", err)
	}
	a.ca, err = x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("dev: CA: %w", err)
	}
	a.caKey = key
	a.pool = x509.NewCertPool()
	a.pool.AddCert(a.ca)
	a.serverCA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.ca.Raw})
	a.server, err = a.issue("localhost", "", x509.ExtKeyUsageServerAuth)
	return err
}

// ServerOptions returns fresh options for an in-process NATS server on
// 127.0.0.1:port (server.RANDOM_PORT for any) that trusts this authority
// and requires mutual TLS, with a client certificate bound to the NATS
// user presenting it (bind.go). JetStream is off; RunServer turns it on.
// Start a server from these options with RunServer or, after
// server.NewServer, Bind.
func (a *Authority) ServerOptions(port int) (*server.Options, error) {
	res := &server.MemAccResolver{}
	for id, jw := range map[string]string{a.accountID: a.accountJW, a.systemID: a.systemJW} {
		if err := res.Store(id, jw); err != nil {
			return nil, fmt.Errorf("dev: resolver: %w", err)
		}
	}
	return &server.Options{
		Host:                       "127.0.0.1",
		Port:                       port,
		NoLog:                      true,
		NoSigs:                     true,
		SystemAccount:              a.systemID,
		TrustedOperators:           []*jwt.OperatorClaims{a.operator},
		AccountResolver:            res,
		CustomClientAuthentication: &binder{auth: a},
		TLS:                        true,
		TLSVerify:                  true,
		TLSTimeout:                 5,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{a.server},
			ClientCAs:    a.pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
		},
	}, nil
}

// Cloud returns credentials for the reference cloud: every subject but the
// kiosks' own (requests and telemetry), so that no request, whatever reply
// subject it names, can make the cloud speak as a kiosk.
func (a *Authority) Cloud() (Credentials, error) {
	return a.user("palmcloud", []string{">"}, []string{">"}, wire.RequestSubject("*", ">"), wire.TelemetrySubject("*", ">"))
}

// DeploymentFiles are what a standalone nats-server of the region or a
// store needs from this authority (see uplink/dev/deploy).
type DeploymentFiles struct {
	Operator      []byte // operator JWT (operator: in the configuration)
	SystemAccount string // system account public key (system_account:)
	Account       string // the kiosks' and cloud's account public key
	AccountJWT    []byte // its JWT, for the resolver
	CA            []byte // CA certificate (PEM)
	Cert, Key     []byte // the server's certificate and key (PEM, PKCS #8)
}

// DeploymentFiles returns the files a standalone server's configuration
// names.
func (a *Authority) DeploymentFiles() (DeploymentFiles, error) {
	key, err := x509.MarshalPKCS8PrivateKey(a.server.PrivateKey)
	if err != nil {
		return DeploymentFiles{}, fmt.Errorf("dev: %w", err)
	}
	return DeploymentFiles{
		Operator:      []byte(a.opJWT),
		SystemAccount: a.systemID,
		Account:       a.accountID,
		AccountJWT:    []byte(a.accountJW),
		CA:            pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.ca.Raw}),
		Cert:          pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.server.Certificate[0]}),
		Key:           pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
	}, nil
}
