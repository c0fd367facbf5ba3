// Package console is the technician's and the test rig's way into a running
// kiosk: a line protocol served on any bidirectional stream (palmd attaches
// it to the kiosk's UART and to a root-only unix socket).
//
// Before a login only help, login, response, machine and quit are
// accepted. A login is an Ed25519 challenge-response: the console sends a
// random challenge, the client signs it (with the device id, see
// SignedMessage) with a technician's key, and the console checks the
// signature against the allowed public keys (Key), each with a role,
// technician or factory. palmd takes the keys from its signed config and
// hands a new signed config's keys to SetKeys: a key removed can no longer
// log in, and a session open with it ends. Five failed logins in a row lock logins for 30 s,
// and every further failure doubles the delay; a session idle for longer
// than Options.Idle is logged out. Every login, failure and command goes to
// the audit log, redacted.
//
// Commands answer in text or, with --json anywhere on the line or a
// trailing "| json", in one JSON object. After "machine", every answer is
// one JSON line and nothing is echoed: palmctl and the HIL runner use it.
//
// Nothing the console sends holds frame bytes, templates, card numbers or
// phone numbers: the commands report aggregates, masked numbers and names,
// and the log ring buffer redacts every run of seven or more digits.
package console
