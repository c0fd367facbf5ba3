// Package dev runs an embedded NATS server and the reference cloud
// in-process, fully provisioned in memory, so that one command gives a
// working kiosk.
//
// Provisioning (Authority) mirrors production: an operator, an account and
// one NATS user per kiosk (user JWT signed by the account, publish and
// subscribe limited to the kiosk's own subjects), and mutual TLS with a
// client certificate per kiosk from an in-memory CA. Nothing is written to
// disk: the account resolver is in memory and JetStream is off.
package dev
