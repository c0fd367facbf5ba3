package dev

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/palmd/palmd/uplink/callout"
)

// AcceptLeafNodes adds to o (from ServerOptions) a leaf-node listener on
// 127.0.0.1:port (server.RANDOM_PORT for any), over TLS with this
// authority's server certificate and client certificates required: the
// region's side of a store's leaf node.
func (a *Authority) AcceptLeafNodes(o *server.Options, port int) {
	o.LeafNode = server.LeafNodeOpts{
		Host: "127.0.0.1",
		Port: port,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{a.server},
			ClientCAs:    a.pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
		},
		TLSTimeout: 5,
	}
}

// StartServer starts a server from options made by ServerOptions (and
// AcceptLeafNodes), binding certificates to users, and waits until it
// accepts connections.
func StartServer(o *server.Options) (*server.Server, error) {
	srv, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("dev: server: %w", err)
	}
	Bind(srv, o)
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("dev: server did not start")
	}
	// Load the account before any client can: two first connections that
	// race to load it enable its JetStream twice, and the second enable
	// removes the stream directory the first is creating ("could not
	// create storage directory").
	if b, ok := o.CustomClientAuthentication.(*binder); ok {
		if _, err := srv.LookupAccount(b.auth.accountID); err != nil {
			srv.Shutdown()
			return nil, fmt.Errorf("dev: server: account: %w", err)
		}
	}
	return srv, nil
}

// Leaf returns credentials for store name's leaf node: its connection to
// the region carries every kiosk's subjects, so it may publish and
// subscribe to anything in the account but the auth callout's requests
// and answers (callout.Subject, callout.ReplySubjects). The region denies
// those to a leaf let in by the callout anyway, and closes the connection
// when the leaf subscribes to them (as it would for the store's own
// callout service); denied in the JWT, the region tells the leaf, which
// then keeps them to itself.
func (a *Authority) Leaf(name string) (Credentials, error) {
	auth := jwt.StringList{callout.Subject, callout.ReplySubjects}
	return a.newUser(name, jwt.Permissions{
		Pub: jwt.Permission{Allow: jwt.StringList{">"}, Deny: auth},
		Sub: jwt.Permission{Allow: jwt.StringList{">"}, Deny: auth},
	})
}

// StartLeaf starts a store's leaf node: a server on a random loopback
// port where the store's kiosks connect with their own credentials (the
// leaf trusts the same operator and binds certificates the same way), and
// which connects to the region at hub (a leaf-node URL, tls://host:port)
// as the user name (a credentials file written to dir, mode 0600). No
// JetStream runs at the leaf: the kiosks' requests, answers and queued
// commands cross the leaf connection to the region.
func (a *Authority) StartLeaf(name, hub, dir string) (*server.Server, error) {
	creds, err := a.Leaf(name)
	if err != nil {
		return nil, err
	}
	files, err := creds.Files()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".creds")
	if err := os.WriteFile(path, files.Creds, 0o600); err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	u, err := url.Parse(hub)
	if err != nil {
		return nil, fmt.Errorf("dev: hub URL: %w", err)
	}
	o, err := a.ServerOptions(server.RANDOM_PORT)
	if err != nil {
		return nil, err
	}
	o.ServerName = name
	o.LeafNode.Remotes = []*server.RemoteLeafOpts{{
		URLs:         []*url.URL{u},
		Credentials:  path,
		LocalAccount: a.accountID,
		TLS:          true,
		TLSConfig:    creds.TLS,
		TLSTimeout:   5,
	}}
	return StartServer(o)
}
