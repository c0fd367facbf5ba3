//go:build !race

package index

import "testing"

// small reports whether the statistical tests run at their -short size.
func small() bool { return testing.Short() }
