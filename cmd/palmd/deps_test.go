package main

import (
	"os/exec"
	"strings"
	"testing"
)

// goListDeps returns every package pkg imports, directly or not.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
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
	tests := []struct {
		pkg       string
		forbidden []string // import path prefixes (or exact testing packages)
	}{
		{".", []string{"testing", "periph.io/x/conn/v3/gpio/gpiotest", "periph.io/x/conn/v3/i2c/i2ctest",
			"periph.io/x/conn/v3/conntest"}},
		{"../../firmware", []string{mod + "drivers/sim", mod + "drivers/camera/", mod + "drivers/light/",
			mod + "drivers/presence/", mod + "drivers/display/", mod + "drivers/cardreader/", mod + "drivers/keypad/",
			mod + "drivers/gate/", mod + "vision/synth", mod + "cmd/", "github.com/nats-io/", "periph.io/",
			"github.com/blackjack/webcam", "go.bug.st/serial", "net/http"}},
		{"../../vision/...", []string{mod + "drivers", mod + "uplink", mod + "firmware", "github.com/nats-io/", "net"}},
		{"../../drivers/...", []string{mod + "firmware", mod + "uplink", "github.com/nats-io/"}},
		{"../../uplink/...", []string{mod + "firmware", mod + "drivers", mod + "cmd/"}},
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
