package secureboot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key files are PEM: "PRIVATE KEY" (PKCS #8) and "PUBLIC KEY" (PKIX), the
// encodings openssl uses for Ed25519 keys.

// MarshalPrivateKey encodes key as a PKCS #8 PEM block.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("secureboot: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes key as a PKIX PEM block.
func MarshalPublicKey(key ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("secureboot: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes one PKCS #8 PEM Ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, rest, err := nextPEM(b, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("secureboot: data after the private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("secureboot: private key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("secureboot: private key is %T, want Ed25519", k)
	}
	return ek, nil
}

// ParsePublicKeys decodes one or more PKIX PEM Ed25519 public keys, the
// trusted keys of a Policy (several while keys are being rotated). Nothing
// but white space may stand between or around the blocks.
func ParsePublicKeys(b []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for len(bytes.TrimSpace(b)) != 0 {
		blk, rest, err := nextPEM(b, "PUBLIC KEY")
		if err != nil {
			return nil, err
		}
		b = rest
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("secureboot: public key: %w", err)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("secureboot: public key is %T, want Ed25519", k)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, errors.New("secureboot: no public key")
	}
	return keys, nil
}

// nextPEM decodes the PEM block of type typ at the start of b (after white
// space); pem.Decode alone would skip any text before it.
func nextPEM(b []byte, typ string) (*pem.Block, []byte, error) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("-----BEGIN ")) {
		return nil, nil, fmt.Errorf("secureboot: want a PEM %q block", typ)
	}
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, nil, fmt.Errorf("secureboot: want a PEM %q block", typ)
	}
	return blk, rest, nil
}
