package dev

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink/callout"
	"github.com/palmd/palmd/uplink/wire"
)

// The issuer files in a directory (Issuer.WriteFiles, LoadIssuer), as an
// operator of a region holds them.
const (
	// IssuerAccountFile is the PALM account's nkey seed (SA..., one line,
	// as nsc keeps it in a .nk file): it signs the users' JWTs.
	IssuerAccountFile = "account.nk"
	// IssuerCAFile is the fleet CA's certificate (PEM): it issues the
	// client certificates, which the servers verify.
	IssuerCAFile = "fleet-ca.pem"
	// IssuerCAKeyFile is the fleet CA's private key (PEM, PKCS #8).
	IssuerCAKeyFile = "fleet-ca-key.pem"
	// IssuerServerCAFile is the certificates (PEM) that verify the
	// servers' certificates.
	IssuerServerCAFile = "server-ca.pem"
)

// Issuer mints NATS users: a user JWT signed by the account, a fresh nkey,
// and a client certificate from the fleet CA naming that nkey (URI SAN
// nkey:<key>), with the CAs that verify the servers. An Authority has one
// for its in-memory region; LoadIssuer reads one from a region's files.
type Issuer struct {
	account   nkeys.KeyPair
	accountID string
	ca        *x509.Certificate
	caKey     crypto.Signer
	pool      *x509.CertPool // verifies the servers
	serverCA  []byte         // the same certificates, PEM
	// serverName is the name a server's certificate must hold; empty:
	// the host of the URL connected to.
	serverName string
}

// Device returns credentials for kiosk id, allowed to publish and
// subscribe only on its own subjects (see wire.DevicePermissions). It
// refuses an id that wire.ValidDevice does not accept.
func (i *Issuer) Device(id string) (Credentials, error) {
	if !wire.ValidDevice(id) {
		return Credentials{}, fmt.Errorf("dev: invalid device id %q", id)
	}
	pub, sub := wire.DevicePermissions(id)
	return i.user(id, pub, sub)
}

func (i *Issuer) user(name string, pub, sub []string, denyPub ...string) (Credentials, error) {
	var p jwt.Permissions
	p.Pub.Allow.Add(pub...)
	p.Sub.Allow.Add(sub...)
	p.Pub.Deny.Add(denyPub...)
	return i.newUser(name, p)
}

// newUser makes a user of the account with permissions p, and its client
// certificate naming its nkey.
func (i *Issuer) newUser(name string, p jwt.Permissions) (Credentials, error) {
	ukp, err := nkeys.CreateUser()
	if err != nil {
		return Credentials{}, fmt.Errorf("dev: %w", err)
	}
	upub, _ := ukp.PublicKey()
	seed, _ := ukp.Seed()
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	uc.Permissions = p
	ujwt, err := uc.Encode(i.account)
	if err != nil {
		return Credentials{}, fmt.Errorf("dev: user %s: %w", name, err)
	}
	cert, err := i.issue(name, upub, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{
		JWT:  ujwt,
		Seed: string(seed),
		TLS: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			RootCAs:      i.pool,
			Certificates: []tls.Certificate{cert},
			ServerName:   i.serverName,
		},
		serverCA: i.serverCA,
	}, nil
}

// issue makes a leaf certificate for name signed by the CA. A client
// certificate names its NATS user's public nkey in a URI
// (nkey:<public key>), which the server's binder (bind.go) and the auth
// callout service check.
func (i *Issuer) issue(name, nkey string, usage x509.ExtKeyUsage) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("dev: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("dev: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if nkey != "" {
		tmpl.URIs = []*url.URL{callout.CertificateURI(nkey)}
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.ca, &key.PublicKey, i.caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("dev: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// WriteFiles writes the issuer's files into dir (see IssuerAccountFile
// and the others), each readable by its owner only; it refuses to
// overwrite a file.
func (i *Issuer) WriteFiles(dir string) error {
	held, err := i.account.Seed() // the key pair's own bytes: copied, not cleared
	if err != nil {
		return fmt.Errorf("dev: issuer: account seed: %w", err)
	}
	seed := append(append([]byte(nil), held...), '\n')
	defer clear(seed)
	key, err := x509.MarshalPKCS8PrivateKey(i.caKey)
	if err != nil {
		return fmt.Errorf("dev: issuer: CA key: %w", err)
	}
	defer clear(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	defer clear(keyPEM)
	for _, f := range []struct {
		name string
		b    []byte
	}{
		{IssuerAccountFile, seed},
		{IssuerCAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.ca.Raw})},
		{IssuerCAKeyFile, keyPEM},
		{IssuerServerCAFile, i.serverCA},
	} {
		path := filepath.Join(dir, f.name)
		fd, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("dev: issuer: %w", err)
		}
		_, err = fd.Write(f.b)
		if err = errors.Join(err, fd.Close()); err != nil {
			return fmt.Errorf("dev: issuer: %s: %w", path, err)
		}
	}
	return nil
}

// LoadIssuer reads the issuer files in dir (see IssuerAccountFile and the
// others): the account's seed, the fleet CA's certificate and key, and the
// servers' CA. The users it mints have JWTs signed by the account key
// itself (not a signing key), and verify a server's certificate against
// the host of the URL they connect to. Its errors name the file and what
// it should hold, never a key.
func LoadIssuer(dir string) (*Issuer, error) {
	read := func(name string) ([]byte, string, error) {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, path, fmt.Errorf("dev: issuer: %w", err)
		}
		return b, path, nil
	}
	i := &Issuer{}

	seed, path, err := read(IssuerAccountFile)
	if err != nil {
		return nil, err
	}
	defer clear(seed)
	seed = bytes.TrimSpace(seed)
	prefix, _, err := nkeys.DecodeSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("dev: issuer: %s: not an nkey seed (%w); want the account's seed (SA...)", path, err)
	}
	if prefix != nkeys.PrefixByteAccount {
		return nil, fmt.Errorf("dev: issuer: %s: holds the seed of a %s key; want the account's seed (SA...)", path, prefix)
	}
	if i.account, err = nkeys.FromSeed(seed); err != nil {
		return nil, fmt.Errorf("dev: issuer: %s: %w", path, err)
	}
	i.accountID, _ = i.account.PublicKey()

	b, path, err := read(IssuerCAFile)
	if err != nil {
		return nil, err
	}
	cas, err := parseCertificates(b)
	switch {
	case err != nil:
		return nil, fmt.Errorf("dev: issuer: %s: %w", path, err)
	case len(cas) != 1:
		return nil, fmt.Errorf("dev: issuer: %s: %d certificates; want the fleet CA's certificate alone", path, len(cas))
	case !cas[0].IsCA || cas[0].KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fmt.Errorf("dev: issuer: %s: not a CA certificate; want one with basic constraints CA and key usage cert sign", path)
	}
	i.ca = cas[0]

	b, path, err = read(IssuerCAKeyFile)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("dev: issuer: %s: want a PEM \"PRIVATE KEY\" block (PKCS #8)", path)
	}
	defer clear(block.Bytes)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dev: issuer: %s: not a PKCS #8 private key", path)
	}
	signer, ok := key.(crypto.Signer)
	caPub, _ := i.ca.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || caPub == nil || !caPub.Equal(signer.Public()) {
		return nil, fmt.Errorf("dev: issuer: %s: not the key of the CA certificate in %s", path, IssuerCAFile)
	}
	i.caKey = signer

	b, path, err = read(IssuerServerCAFile)
	if err != nil {
		return nil, err
	}
	servers, err := parseCertificates(b)
	if err != nil || len(servers) == 0 {
		return nil, fmt.Errorf("dev: issuer: %s: want one or more PEM CA certificates (%v)", path, err)
	}
	i.pool = x509.NewCertPool()
	for _, c := range servers {
		i.pool.AddCert(c)
		i.serverCA = append(i.serverCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return i, nil
}

// parseCertificates parses every PEM block of b, which must all be
// certificates.
func parseCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a PEM %q block; want CERTIFICATE", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(strings.TrimSpace(string(b))) != 0 {
		return nil, errors.New("text that is not PEM after the certificates")
	}
	return certs, nil
}
