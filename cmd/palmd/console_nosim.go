//go:build !sim

package main

import "github.com/palmd/palmd/firmware/console"

// consoleSim: the production build drives real hardware only.
func consoleSim(*simulation, console.Kiosk) console.Stimulator { return nil }
