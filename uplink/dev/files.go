package dev

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/nats-io/jwt/v2"
)

// Files are Credentials in the file formats palmd's configuration and
// palmcloud's flags take: a NATS credentials file and PEM certificates.
type Files struct {
	Creds []byte // user JWT and nkey seed (nats.UserCredentials)
	CA    []byte // the server's CA certificate
	Cert  []byte // the client certificate
	Key   []byte // the client key (PKCS #8)
}

// Files encodes c for writing to disk (the embedded dev server never does;
// palmcloud and HIL rigs do).
func (c Credentials) Files() (Files, error) {
	creds, err := jwt.FormatUserConfig(c.JWT, []byte(c.Seed))
	if err != nil {
		return Files{}, fmt.Errorf("dev: %w", err)
	}
	leaf := c.TLS.Certificates[0]
	key, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		return Files{}, fmt.Errorf("dev: %w", err)
	}
	return Files{
		Creds: creds,
		CA:    c.serverCA,
		Cert:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}),
		Key:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
	}, nil
}

// NewDeviceFiles returns the files of kiosk id's credentials from a new
// authority that nothing else trusts: what a factory station installs,
// for tests of provisioning that need no server.
func NewDeviceFiles(id string) (Files, error) {
	a, err := NewAuthority()
	if err != nil {
		return Files{}, err
	}
	c, err := a.Device(id)
	if err != nil {
		return Files{}, err
	}
	return c.Files()
}
