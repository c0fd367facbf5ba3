//go:build race

package index

// small reports whether the statistical tests run at their -short size:
// always under the race detector, where a search among 100,000 enrolled
// takes minutes; the small size still runs every concurrent path.
func small() bool { return true }
