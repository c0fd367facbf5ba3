package callout

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// URIScheme is the scheme of the URI SAN by which a client certificate
// names its NATS user: nkey:<user public key>.
const URIScheme = "nkey"

// CertificateURI returns the URI SAN that binds a certificate to the NATS
// user whose public key is nkey.
func CertificateURI(nkey string) *url.URL { return &url.URL{Scheme: URIScheme, Opaque: nkey} }

// Reason names why a connection is refused. It is what the service logs
// and answers, and never holds key material.
type Reason string

// The reasons a connection is refused.
const (
	NoJWT                     Reason = "no_jwt"                       // the client sent no user JWT
	JWTInvalid                Reason = "jwt_invalid"                  // not a user JWT, or its signature is wrong
	JWTWrongIssuer            Reason = "jwt_wrong_issuer"             // signed by neither the account nor an accepted signing key
	JWTNotValid               Reason = "jwt_not_valid"                // expired, not yet valid, or otherwise refused by jwt validation
	SignatureInvalid          Reason = "signature_invalid"            // the nonce is not signed by the JWT's nkey
	NoCertificate             Reason = "no_certificate"               // no verified client certificate
	CertificateNamesOtherUser Reason = "certificate_names_other_user" // the certificate names another nkey, or none
	RequestInvalid            Reason = "request_invalid"              // the server's request does not decode
)

// RefusedError is a refusal: Reason says why, Err (possibly nil) what the
// library reported.
type RefusedError struct {
	Reason Reason
	Err    error
}

func (e *RefusedError) Error() string {
	if e.Err == nil {
		return "callout: refused: " + string(e.Reason)
	}
	return fmt.Sprintf("callout: refused: %s: %v", e.Reason, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

func refuse(r Reason, err error) error { return &RefusedError{Reason: r, Err: err} }

// ReasonOf returns the reason of a refusal returned by Verify, or
// RequestInvalid for any other error.
func ReasonOf(err error) Reason {
	if re, ok := errors.AsType[*RefusedError](err); ok {
		return re.Reason
	}
	return RequestInvalid
}

// Issuers are the keys that may sign a kiosk's user JWT: the account
// itself, or one of its signing keys without a scope (a scoped key's users
// take their permissions from the scope, which this check does not apply).
type Issuers struct {
	Account     string   // account public key
	SigningKeys []string // accepted signing keys of the account
}

// Connection is what a client presented to the server.
type Connection struct {
	JWT   string            // user JWT from CONNECT
	Sig   string            // the server's nonce signed with the JWT's nkey (base64)
	Nonce []byte            // the nonce the server sent
	Cert  *x509.Certificate // the client certificate of a chain the server verified; nil if none
}

// Verify checks a connection the way operator mode does and one thing
// more: the user JWT is issued by is, valid now, the client signed the
// nonce with the JWT's nkey, and the verified client certificate names
// that nkey (URI SAN nkey:<key>). It returns the JWT's claims, or a
// *RefusedError. Kiosk A's certificate with kiosk B's JWT and seed is
// refused with CertificateNamesOtherUser.
func (is Issuers) Verify(c Connection) (*jwt.UserClaims, error) {
	if c.JWT == "" {
		return nil, refuse(NoJWT, nil)
	}
	uc, err := jwt.DecodeUserClaims(c.JWT) // checks the JWT's own signature
	if err != nil {
		return nil, refuse(JWTInvalid, err)
	}
	switch {
	case uc.IssuerAccount == "" && uc.Issuer == is.Account:
	case uc.IssuerAccount == is.Account && slices.Contains(is.SigningKeys, uc.Issuer):
	default:
		return nil, refuse(JWTWrongIssuer, nil)
	}
	vr := jwt.CreateValidationResults()
	uc.Validate(vr)
	if vr.IsBlocking(true) {
		return nil, refuse(JWTNotValid, errors.Join(vr.Errors()...))
	}
	sig, err := base64.RawURLEncoding.DecodeString(c.Sig)
	if err != nil {
		if sig, err = base64.StdEncoding.DecodeString(c.Sig); err != nil {
			return nil, refuse(SignatureInvalid, errors.New("signature is not base64"))
		}
	}
	pub, err := nkeys.FromPublicKey(uc.Subject)
	if err != nil {
		return nil, refuse(JWTInvalid, err)
	}
	if len(sig) == 0 || len(c.Nonce) == 0 || pub.Verify(c.Nonce, sig) != nil {
		return nil, refuse(SignatureInvalid, nil)
	}
	if c.Cert == nil {
		return nil, refuse(NoCertificate, nil)
	}
	if !slices.ContainsFunc(c.Cert.URIs, func(u *url.URL) bool { return u.Scheme == URIScheme && u.Opaque == uc.Subject }) {
		return nil, refuse(CertificateNamesOtherUser, nil)
	}
	return uc, nil
}
