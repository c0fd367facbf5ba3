package dev

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a region's NATS cluster in one process: n servers trusting
// one Authority, routed to each other, with clustered JetStream (file
// storage under one directory per server). A node can be killed and
// restarted with the same name, ports and storage, as a rolling restart or
// a crash would.
type Cluster struct {
	auth  *Authority
	mu    sync.Mutex
	opts  []*server.Options
	nodes []*server.Server // nil while killed
}

// StartCluster starts n servers on loopback ports, with JetStream state
// under dir, and waits until JetStream has a leader and every server is
// online to it.
func StartCluster(auth *Authority, n int, dir string) (*Cluster, error) {
	if n < 1 {
		return nil, errors.New("dev: a cluster needs at least one server")
	}
	c := &Cluster{auth: auth, opts: make([]*server.Options, n), nodes: make([]*server.Server, n)}
	// Every server's client and route ports are fixed before any starts,
	// so that each names all the others' routes and a restart reuses them.
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])})
	}
	for i := range n {
		o, err := auth.ServerOptions(ports[i])
		if err != nil {
			return nil, err
		}
		o.ServerName = fmt.Sprintf("palm-%d", i+1)
		o.JetStream = true
		o.StoreDir = filepath.Join(dir, o.ServerName)
		o.Cluster = server.ClusterOpts{Name: "palm-region", Host: "127.0.0.1", Port: ports[n+i]}
		o.Routes = routes
		c.opts[i] = o
	}
	for i := range n {
		if err := c.start(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	for deadline := time.Now().Add(30 * time.Second); !c.jetStreamReady(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.Shutdown()
			return nil, fmt.Errorf("dev: cluster: JetStream had no leader with all %d servers online in 30 s", n)
		}
	}
	return c, nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("dev: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) start(i int) error {
	o := c.opts[i].Clone()
	o.CustomClientAuthentication = &binder{auth: c.auth}
	srv, err := StartServer(o)
	if err != nil {
		return fmt.Errorf("dev: node %d: %w", i+1, err)
	}
	c.mu.Lock()
	c.nodes[i] = srv
	c.mu.Unlock()
	return nil
}

// jetStreamReady reports whether JetStream has a leader that counts every
// server as a peer to place streams on: before that, a stream with as many
// replicas as servers is refused ("no suitable peers for placement").
func (c *Cluster) jetStreamReady() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.nodes {
		if s != nil && s.JetStreamIsLeader() {
			return len(s.JetStreamClusterPeers()) == len(c.nodes)
		}
	}
	return false
}

// URLs returns every server's client URL, comma-separated, as
// uplink.Dial and nats.Connect take them.
func (c *Cluster) URLs() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("tls://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// URL returns server i's client URL.
func (c *Cluster) URL(i int) string { return fmt.Sprintf("tls://127.0.0.1:%d", c.opts[i].Port) }

// Kill stops server i at once, as a crash would (clients see their
// connection drop and reconnect to the others).
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	srv := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

// Restart starts server i again after Kill, with its name, ports and
// JetStream storage.
func (c *Cluster) Restart(i int) error { return c.start(i) }

// Server returns server i, or nil while it is killed.
func (c *Cluster) Server(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.nodes {
		c.Kill(i)
	}
}
