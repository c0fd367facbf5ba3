package dev

import (
	"encoding/base64"
	"sync/atomic"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// nkeyScheme is the URI scheme of the SAN that names a client
// certificate's NATS user: nkey:<user public key>.
const nkeyScheme = "nkey"

// binder authenticates client connections for a server this Authority
// trusts. It does what operator mode does with a user JWT (the JWT is
// issued by the account, valid, and the client signed the server's nonce
// with the JWT's nkey) and one thing more: the verified TLS client
// certificate must name that same nkey. Kiosk A's certificate with kiosk
// B's JWT and seed is refused. NATS JWTs carry no certificate binding, and
// verify_and_map only works without JWTs, so the embedded server checks
// both here; a standalone nats-server gets the same check from an auth
// callout service (see README, "The fleet").
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
	if srv == nil || o == nil || o.JWT == "" {
		return false
	}
	uc, err := jwt.DecodeUserClaims(o.JWT) // checks the JWT's own signature
	if err != nil || uc.Issuer != b.auth.accountID || uc.IssuerAccount != "" {
		return false
	}
	vr := jwt.CreateValidationResults()
	uc.Validate(vr)
	if vr.IsBlocking(true) {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(o.Sig)
	if err != nil {
		if sig, err = base64.StdEncoding.DecodeString(o.Sig); err != nil {
			return false
		}
	}
	pub, err := nkeys.FromPublicKey(uc.Subject)
	if err != nil || pub.Verify(c.GetNonce(), sig) != nil {
		return false
	}
	if !certNames(c, uc.Subject) {
		return false
	}
	acc, err := srv.LookupAccount(b.auth.accountID)
	if err != nil {
		return false
	}
	c.RegisterUser(&server.User{Username: uc.Name, Account: acc, Permissions: permissions(uc)})
	return true
}

// certNames reports whether the client's verified certificate names nkey.
func certNames(c server.ClientAuthentication, nkey string) bool {
	st := c.GetTLSConnectionState()
	if st == nil || len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return false
	}
	for _, u := range st.PeerCertificates[0].URIs {
		if u.Scheme == nkeyScheme && u.Opaque == nkey {
			return true
		}
	}
	return false
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
