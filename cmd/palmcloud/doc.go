// Command palmcloud is the reference cloud for development, tests and demos:
// it answers kiosks' requests on a NATS server (see uplink/cloud).
//
//	palmcloud keygen -dir keys                 # seal, payment and signing keys; prints the kiosk config
//	palmcloud serve -url tls://host:4222 -creds cloud.creds -ca ca.pem -cert c.pem -key k.pem -keys keys
package main
