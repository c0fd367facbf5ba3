// Package replay is a time-ordered window of identifiers seen recently: the
// nonces a kiosk accepted (uplink) and the request ids a cloud answered
// (uplink/cloud).
//
// Each identifier is remembered for a fixed time after it was added, in a
// map for lookups and a queue in insertion order for forgetting: the oldest
// entries sit at the front of the queue, so forgetting what has expired
// pops from the front and never scans. Add costs O(1) amortised, whatever
// the number of identifiers held. The window never forgets an identifier
// early: when it holds its maximum it refuses new ones (ErrFull) rather
// than let an old one be replayed.
package replay
