package dev_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/palmd/palmd/uplink/callout"
	"github.com/palmd/palmd/uplink/dev"
)

// TestDeploymentConfigs parses the region's and the store's nats-server
// configurations (uplink/dev/deploy) with the files an Authority makes,
// as nats-server would at start, and checks what the README says of them.
func TestDeploymentConfigs(t *testing.T) {
	auth, err := dev.NewAuthority()
	if err != nil {
		t.Fatal(err)
	}
	f, err := auth.DeploymentFiles()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := auth.Leaf("store-17")
	if err != nil {
		t.Fatal(err)
	}
	leafFiles, err := leaf.Files()
	if err != nil {
		t.Fatal(err)
	}
	confs, err := filepath.Abs("deploy")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"operator.jwt": f.Operator, "ca.pem": f.CA, "server.pem": f.Cert,
		"server-key.pem": f.Key, "store-17.creds": leafFiles.Creds, "store-17.pem": leafFiles.Cert, "store-17-key.pem": leafFiles.Key} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SYSTEM_ACCOUNT", f.SystemAccount)
	t.Setenv("PALM_ACCOUNT", f.Account)
	t.Chdir(dir)

	region, err := server.ProcessConfigFile(filepath.Join(confs, "region.conf"))
	if err != nil {
		t.Fatalf("region.conf: %v", err)
	}
	if !region.JetStream || region.Cluster.Name != "palm-region" || len(region.Routes) != 2 ||
		region.LeafNode.Port != 7422 || !verifies(region) || region.SystemAccount != f.SystemAccount ||
		len(region.TrustedOperators) != 1 || region.Cluster.TLSConfig == nil || region.LeafNode.TLSConfig == nil {
		t.Errorf("region.conf: jetstream %v cluster %q routes %d leaf port %d verify %v system %q operators %d",
			region.JetStream, region.Cluster.Name, len(region.Routes), region.LeafNode.Port, verifies(region),
			region.SystemAccount, len(region.TrustedOperators))
	}
	store, err := server.ProcessConfigFile(filepath.Join(confs, "store-leaf.conf"))
	if err != nil {
		t.Fatalf("store-leaf.conf: %v", err)
	}
	if store.JetStream || len(store.LeafNode.Remotes) != 1 || len(store.LeafNode.Remotes[0].URLs) != 3 ||
		store.LeafNode.Remotes[0].LocalAccount != f.Account || store.LeafNode.Remotes[0].TLSConfig == nil || !verifies(store) {
		r := store.LeafNode.Remotes[0]
		t.Errorf("store-leaf.conf: jetstream %v remotes %d urls %d account %q (want %q) tls %v verify %v", store.JetStream, len(store.LeafNode.Remotes), len(r.URLs), r.LocalAccount, f.Account, r.TLSConfig != nil, verifies(store))
	}
	// The store's auth callout traffic stays at the store (a region closes
	// a leaf connection subscribing to it).
	denied := []string{callout.Subject, callout.ReplySubjects}
	if r := store.LeafNode.Remotes[0]; !slices.Equal(r.DenyImports, denied) || !slices.Equal(r.DenyExports, denied) {
		t.Errorf("store-leaf.conf: deny_imports %q deny_exports %q, want %q both", r.DenyImports, r.DenyExports, denied)
	}
}

// verifies reports whether a server requires and verifies client
// certificates (tls { verify: true }).
func verifies(o *server.Options) bool {
	return o.TLSConfig != nil && o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert
}
