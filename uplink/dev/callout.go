package dev

import (
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/palmd/palmd/uplink/callout"
)

// Callout is what a region whose standalone servers bind certificates to
// users with the auth callout service (uplink/callout) needs from this
// authority.
type Callout struct {
	// AccountJWT replaces DeploymentFiles.AccountJWT in the servers'
	// resolver: the same account, with external authorization (the
	// service's user is the only auth user; requests encrypted to XKey) and
	// the signing key whose seed is Signer.
	AccountJWT []byte
	// Service is the service's NATS user: it may only take requests on
	// callout.Subject and answer them.
	Service Credentials
	// Issuers are the keys that may sign the kiosks' JWTs (the account and
	// Signer's public key), for callout.Config.
	Issuers callout.Issuers
	// Signer and XKey are nkey seeds (SA..., SX...): the account signing key
	// the service signs its answers with, and its curve key.
	Signer, XKey []byte
}

// Callout makes a new signing key, curve key and service user, and the
// account JWT that sends every other connection to the service. The
// servers Start, StartCluster and StartLeaf run keep the binder and the
// account JWT without external authorization.
func (a *Authority) Callout() (Callout, error) {
	svc, err := a.newUser("palm-callout", jwt.Permissions{
		Pub:  jwt.Permission{Deny: jwt.StringList{">"}},
		Sub:  jwt.Permission{Allow: jwt.StringList{callout.Subject}},
		Resp: &jwt.ResponsePermission{MaxMsgs: 1},
	})
	if err != nil {
		return Callout{}, err
	}
	svcClaims, err := jwt.DecodeUserClaims(svc.JWT)
	if err != nil {
		return Callout{}, fmt.Errorf("dev: callout user: %w", err)
	}
	skp, err := nkeys.CreateAccount()
	if err != nil {
		return Callout{}, fmt.Errorf("dev: %w", err)
	}
	spub, _ := skp.PublicKey()
	sseed, _ := skp.Seed()
	xkp, err := nkeys.CreateCurveKeys()
	if err != nil {
		return Callout{}, fmt.Errorf("dev: %w", err)
	}
	xpub, _ := xkp.PublicKey()
	xseed, _ := xkp.Seed()
	ac, err := jwt.DecodeAccountClaims(a.accountJW)
	if err != nil {
		return Callout{}, fmt.Errorf("dev: account: %w", err)
	}
	ac.SigningKeys.Add(spub)
	ac.EnableExternalAuthorization(svcClaims.Subject)
	ac.Authorization.XKey = xpub
	ajwt, err := ac.Encode(a.opKey)
	if err != nil {
		return Callout{}, fmt.Errorf("dev: account: %w", err)
	}
	return Callout{
		AccountJWT: []byte(ajwt),
		Service:    svc,
		Issuers:    callout.Issuers{Account: a.accountID, SigningKeys: []string{spub}},
		Signer:     sseed,
		XKey:       xseed,
	}, nil
}

// CalloutServerOptions returns ServerOptions(port) for a server that, like
// a region's standalone servers, leaves the binding of certificates to
// users to the auth callout service: no binder, and co.AccountJWT in its
// resolver. Start it with StartServer.
func (a *Authority) CalloutServerOptions(co Callout, port int) (*server.Options, error) {
	o, err := a.ServerOptions(port)
	if err != nil {
		return nil, err
	}
	o.CustomClientAuthentication = nil
	if err := o.AccountResolver.Store(a.accountID, string(co.AccountJWT)); err != nil {
		return nil, fmt.Errorf("dev: resolver: %w", err)
	}
	return o, nil
}
