// Package bus carries the kiosk's events to whoever listens: the JSON-lines
// sink on standard output, the human-readable live view, telemetry, the
// scenario player, and later the technician console and the kiosk page.
//
// The kiosk publishes; each subscriber has its own buffer. A subscriber that
// falls behind loses events (they are counted, see Sub.Dropped): a slow
// reader never stalls the kiosk.
//
// An Event's fields are fixed so that a reviewer can see it can carry no
// biometric, card or phone data: Subject is the cloud's opaque pseudonym,
// never a name.
package bus
