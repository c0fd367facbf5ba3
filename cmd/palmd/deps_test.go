package main

import (
	"os/exec"
	"strings"
	"testing"
)

// goListDeps returns every package pkg imports, directly or not, in the
// build the tags select (none: production).
func goListDeps(t *testing.T, pkg string, tags ...string) []string {
	t.Helper()
	args := []string{"list", "-deps"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	out, err := exec.Command("go", append(args, pkg)...).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestDependencyDirection holds DESIGN.md's rule: cmd → firmware → (drivers,
// vision, uplink, secureboot); firmware sees drivers only through their
// interfaces and never the simulator or the network; the daemon carries no
// test fakes.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/palmd/palmd/"
	// What only the simulation build may link: a kiosk in the field never
	// starts a server or a cloud of its own, renders no synthetic palms and
	// matches nothing.
	simOnly := []string{mod + "drivers/sim", mod + "vision/synth", mod + "vision/match", mod + "uplink/cloud",
		mod + "uplink/dev", "github.com/nats-io/nats-server"}
	// The interface packages under drivers/ hold interfaces and types only.
	var ifaces []string
	for _, p := range []string{"camera", "cardreader", "display", "gate", "keypad", "light", "presence"} {
		ifaces = append(ifaces, "../../drivers/"+p)
	}
	impls := []string{mod + "drivers/camera/", mod + "drivers/cardreader/", mod + "drivers/display/", mod + "drivers/gate/",
		mod + "drivers/keypad/", mod + "drivers/light/", mod + "drivers/presence/", mod + "drivers/sim",
		"periph.io/", "go.bug.st/serial", "github.com/blackjack/webcam"}
	// Network code: what our own packages import directly (the standard
	// library's crypto/x509 links net for name constraints, and that is no
	// network code of ours; net/url and net/netip only parse).
	network := []string{"net", "net/http", "net/rpc", "net/smtp", "github.com/nats-io/", mod + "uplink"}
	for _, pkg := range []string{"../../secureboot", "../../firmware/config"} {
		for imp, by := range ownImports(t, pkg) {
			for _, bad := range network {
				if imp == bad || strings.HasSuffix(bad, "/") && strings.HasPrefix(imp, bad) ||
					strings.HasPrefix(bad, "github.com/") && strings.HasPrefix(imp, bad+"/") {
					t.Errorf("%s is network code (%s imports %s)", pkg, by, imp)
				}
			}
		}
	}
	tests := []struct {
		pkg       string
		forbidden []string // import path prefixes (or exact testing packages)
	}{
		{".", append([]string{"testing", "periph.io/x/conn/v3/gpio/gpiotest", "periph.io/x/conn/v3/i2c/i2ctest",
			"periph.io/x/conn/v3/conntest"}, simOnly...)},
		{"../../firmware", []string{mod + "drivers/sim", mod + "drivers/camera/", mod + "drivers/light/",
			mod + "drivers/presence/", mod + "drivers/display/", mod + "drivers/cardreader/", mod + "drivers/keypad/",
			mod + "drivers/gate/", mod + "vision/synth", mod + "cmd/", "github.com/nats-io/", "periph.io/",
			"github.com/blackjack/webcam", "go.bug.st/serial", "net/http"}},
		{"../../vision/...", []string{mod + "drivers", mod + "uplink", mod + "firmware", "github.com/nats-io/", "net"}},
		{"../../drivers/...", []string{mod + "firmware", mod + "uplink", "github.com/nats-io/"}},
		{"../../uplink/...", []string{mod + "firmware", mod + "drivers", mod + "cmd/"}},
	}
	for _, p := range ifaces {
		tests = append(tests, struct {
			pkg       string
			forbidden []string
		}{p, impls})
	}
	for _, tt := range tests {
		for _, dep := range goListDeps(t, tt.pkg) {
			for _, bad := range tt.forbidden {
				if dep == bad || strings.HasPrefix(dep, bad+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad)) {
					t.Errorf("%s depends on %s", tt.pkg, dep)
				}
			}
		}
	}
}

// ownImports maps every import of pkg and of the module's packages it
// depends on to the package that imports it.
func ownImports(t *testing.T, pkg string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{.ImportPath}} {{join .Imports " "}}{{end}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	imports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "github.com/palmd/palmd/") {
			continue
		}
		for _, imp := range f[1:] {
			imports[imp] = f[0]
		}
	}
	return imports
}

// TestSimulationBuildHasTheSimulator makes sure the dependency test above
// can fail: the same command built with -tags sim links what production
// must not.
func TestSimulationBuildHasTheSimulator(t *testing.T) {
	deps := strings.Join(goListDeps(t, ".", "sim"), "\n")
	for _, want := range []string{"github.com/palmd/palmd/drivers/sim", "github.com/palmd/palmd/uplink/dev",
		"github.com/nats-io/nats-server/v2/server"} {
		if !strings.Contains(deps, want+"\n") {
			t.Errorf("the simulation build does not link %s", want)
		}
	}
}
