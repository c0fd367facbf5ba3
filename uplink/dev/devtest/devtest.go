package devtest

import (
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/nats-io/nats-server/v2/server/ats"
)

// Bubble runs f in a testing/synctest bubble (synctest.Test) that NATS
// can run in:
//
//   - nats-server's access-time service (server/ats) starts a goroutine at
//     its first use that waits on a channel made before any bubble.
//     Started in a bubble it would never count as waiting, and the clock
//     would never move. Bubble starts it first, outside; the bubble's
//     servers share it.
//   - nats.go keeps spent timers in a pool the process shares (Flush,
//     Request, NextMsg). A timer made in one bubble and used in another,
//     or outside any, stops the process ("select on synctest channel from
//     outside bubble"). Bubble empties the pool before and after f (two
//     garbage collections empty a sync.Pool), so a bubble gets none and
//     leaves none.
//
// A test that uses NATS outside a bubble must not run in parallel with
// one: it could hand the bubble a timer of its own. JetStream's file
// storage reads the time from that access-time service, the machine's
// clock and not the bubble's (which starts in 2000), and so expires every
// message with an age limit at once: in a bubble, streams and buckets
// keep to memory (cloud.StoreOptions.Memory, as dev.StartInProcess does).
func Bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	ats.Register()
	defer ats.Unregister()
	emptyPools()
	defer emptyPools()
	synctest.Test(t, f)
}

// emptyPools empties every sync.Pool: a collection moves a pool's objects
// to its victim cache, the next drops them.
func emptyPools() {
	runtime.GC()
	runtime.GC()
}
