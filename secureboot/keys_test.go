package secureboot

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	key := testKey(1)
	privPEM, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(key) {
		t.Fatal("private key changed in the round trip")
	}
	pub1, _ := MarshalPublicKey(testKey(1).Public().(ed25519.PublicKey))
	pub2, _ := MarshalPublicKey(testKey(2).Public().(ed25519.PublicKey))
	keys, err := ParsePublicKeys(append(pub1, pub2...))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys[0].Equal(testKey(1).Public()) || !keys[1].Equal(testKey(2).Public()) {
		t.Fatalf("got %d keys, want the two in order", len(keys))
	}
}

func TestParseKeysErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPrivDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER})
	ecPriv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPrivDER})
	pub, _ := MarshalPublicKey(testKey(1).Public().(ed25519.PublicKey))
	priv, _ := MarshalPrivateKey(testKey(1))

	pubTests := map[string][]byte{
		"empty":          nil,
		"not PEM":        []byte("hello"),
		"ECDSA key":      ecPub,
		"private key":    priv,
		"trailing junk":  append(bytes.Clone(pub), "junk"...),
		"corrupt DER":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0x01}}),
		"leading junk":   append([]byte("junk\n"), pub...),
		"only a comment": []byte("# keys\n"),
	}
	for name, in := range pubTests {
		if _, err := ParsePublicKeys(in); err == nil {
			t.Errorf("ParsePublicKeys(%s): accepted", name)
		}
	}
	privTests := map[string][]byte{
		"empty":         nil,
		"ECDSA key":     ecPriv,
		"public key":    pub,
		"two keys":      append(bytes.Clone(priv), priv...),
		"corrupt DER":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x01}}),
		"trailing junk": append(bytes.Clone(priv), "junk"...),
	}
	for name, in := range privTests {
		if _, err := ParsePrivateKey(in); err == nil {
			t.Errorf("ParsePrivateKey(%s): accepted", name)
		}
	}
}
