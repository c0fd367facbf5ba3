// Package drivers groups the kiosk's hardware parts. Each part has its own
// package holding one small interface and the types it exchanges; the Linux
// implementation lives in a sub-package beside it, and drivers/sim simulates
// every part on one shared, scriptable world.
//
// Every part has Halt: it returns the part to an inert state (LEDs off, capture
// stopped, relay released). A driver operates on the bus or port it is given
// and never closes it: the owner of the bus closes it.
package drivers
