// Package devtest runs a test in a testing/synctest bubble with NATS in
// it: the embedded server and reference cloud of dev.StartInProcess, and
// the kiosks (palmd, uplink.Client) connected to them through in-memory
// pipes. In the bubble the clock moves only when every goroutine waits, so
// such a test neither sleeps nor races the machine's clock.
//
// synctest.Test alone is not enough for NATS, which keeps two pieces of
// state for the whole process; Bubble makes both safe (its doc says how).
package devtest
