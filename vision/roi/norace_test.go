//go:build !race

package roi

import "testing"

func skipUnderRace(*testing.T) {}
