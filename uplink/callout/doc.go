// Package callout is the auth callout service of a region's standalone
// nats-server: it binds a kiosk's TLS client certificate to its NATS user,
// the check the in-process servers make in Go (uplink/dev/bind.go), which
// nats-server cannot make from its configuration.
//
// The account the kiosks live in (PALM) enables external authorization in
// its JWT: auth_users names only the callout service's own user, and xkey
// the service's curve key, so that requests (which carry the client's JWT,
// nonce signature and certificate chain) and answers are encrypted. A
// client connects with its own user JWT and seed, as without the callout;
// the server checks them as operator mode does and then sends an
// authorization request on $SYS.REQ.USER.AUTH in the account. The service
// (several instances share the requests in a queue group) checks the
// connection again with Issuers.Verify — the JWT is issued by the account
// or an accepted signing key, valid now, the nonce signed by its nkey, and
// the certificate of the chain the server verified names that nkey in a
// URI SAN nkey:<user public key> — and answers with a user JWT for the
// server-assigned user nkey that carries the kiosk JWT's name, expiry and
// permissions, signed by the account or its signing key. Anything else is
// answered with an error naming the Reason, and logged with that reason,
// the user's name and the server's (never a key, JWT or certificate).
//
// Every connection but the service's own goes through it: the kiosks, the
// cloud's instances and the stores' leaf nodes, whose certificates name
// their users like the kiosks'. Only the service's user is an auth user:
// listing more would need a new account JWT for every cloud or store
// credential, and would exempt them from the binding. A store's leaf node
// asks too, about the kiosks connecting to it, and a server drops a
// request coming over a leaf connection (it denies every connection of the
// account publishing on Subject): each store runs an instance of the
// service connected to its leaf node.
package callout
