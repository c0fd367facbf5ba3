// Package dev runs an embedded NATS server and the reference cloud
// in-process, fully provisioned in memory, so that one command gives a
// working kiosk; and the same pieces as a region (StartCluster: servers
// routed to each other with clustered JetStream) and a store
// (StartLeaf: a leaf node connected to the region), for tests and the load
// tool. Start listens on a loopback port; StartInProcess (palmd's
// simulation build) on none, its clients connecting through in-memory
// pipes, so that a test can run it in a testing/synctest bubble.
//
// Provisioning (Authority) mirrors production: an operator, an account
// (with JetStream) and a system account, one NATS user per kiosk (user JWT
// signed by the account, publish and subscribe limited to the kiosk's own
// subjects and the acknowledgement of its own queued commands), and mutual
// TLS with a client certificate per kiosk from an in-memory CA. The
// certificate names the user's public nkey (URI SAN nkey:<key>), and the
// server refuses a connection whose certificate and credentials belong to
// different users (bind.go, with the check uplink/callout shares with the
// auth callout service). The cloud's user may publish anywhere but on the
// kiosks' request and telemetry subjects.
//
// A region's standalone nats-servers (deploy/region.conf) make that check
// through the auth callout service instead: Callout makes the account JWT
// that enables it, the service's user and keys, and CalloutServerOptions
// an in-process server without the binder that relies on it.
//
// An Authority's Issuer (the account key and the CA: what mints a kiosk's
// credentials) can be written to a directory (Issuer.WriteFiles, files
// 0600) and read back (LoadIssuer), as an operator of a region holds it:
// palmload -url mints its kiosks from such files.
//
// Start writes nothing to disk: the account resolver is in memory and
// the cloud keeps its JetStream buckets and stream in memory; JetStream's
// store directory (a temporary directory, removed by Close) stays empty.
package dev
