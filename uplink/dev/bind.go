package dev

import (
	"crypto/x509"
	"sync/atomic"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/palmd/palmd/uplink/callout"
)

// binder authenticates client connections for a server this Authority
// trusts with callout.Issuers.Verify: what operator mode does with a user
// JWT (the JWT is issued by the account, valid, and the client signed the
// server's nonce with the JWT's nkey) and one thing more: the verified TLS
// client certificate must name that same nkey. Kiosk A's certificate with
// kiosk B's JWT and seed is refused. NATS JWTs carry no certificate
// binding, and verify_and_map only works without JWTs, so the in-process
// servers check both here; a standalone nats-server gets the same check
// from the auth callout service (uplink/callout, palmcloud callout).
type binder struct {
	auth *Authority
	srv  atomic.Pointer[server.Server]
}

var _ server.Authentication = (*binder)(nil)

// Bind attaches the server started from ServerOptions, whose accounts the
// binder registers connections with. RunServer calls it.
func Bind(srv *server.Server, opts *server.Options) {
	if b, ok := opts.CustomClientAuthentication.(*binder); ok {
		b.srv.Store(srv)
	}
}

// Check implements server.Authentication.
func (b *binder) Check(c server.ClientAuthentication) bool {
	srv := b.srv.Load()
	o := c.GetOpts()
	if srv == nil || o == nil {
		return false
	}
	var cert *x509.Certificate
	if st := c.GetTLSConnectionState(); st != nil && len(st.VerifiedChains) > 0 && len(st.VerifiedChains[0]) > 0 {
		cert = st.VerifiedChains[0][0]
	}
	uc, err := callout.Issuers{Account: b.auth.accountID}.Verify(callout.Connection{JWT: o.JWT, Sig: o.Sig, Nonce: c.GetNonce(), Cert: cert})
	if err != nil {
		return false
	}
	acc, err := srv.LookupAccount(b.auth.accountID)
	if err != nil {
		return false
	}
	c.RegisterUser(&server.User{Username: uc.Name, Account: acc, Permissions: permissions(uc)})
	return true
}

// permissions converts a user JWT's permissions to the server's.
func permissions(uc *jwt.UserClaims) *server.Permissions {
	p := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: uc.Pub.Allow, Deny: uc.Pub.Deny},
		Subscribe: &server.SubjectPermission{Allow: uc.Sub.Allow, Deny: uc.Sub.Deny},
	}
	if uc.Resp != nil {
		p.Response = &server.ResponsePermission{MaxMsgs: uc.Resp.MaxMsgs, Expires: uc.Resp.Expires}
	}
	return p
}
