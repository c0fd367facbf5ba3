// Command palmcloud is the reference cloud for development, tests and demos:
// it answers kiosks' requests on a NATS server (see uplink/cloud).
//
//	palmcloud keygen -dir keys                 # seal, payment and signing keys; prints the kiosk config
//	palmcloud serve -url tls://host:4222 -creds cloud.creds -ca ca.pem -cert c.pem -key k.pem -keys keys
//
// and the region's auth callout service (see uplink/callout), which lets a
// client into a standalone nats-server only if its TLS certificate names
// the nkey of the user JWT it presents:
//
//	palmcloud callout -url tls://host:4222 -creds callout.creds -ca ca.pem -cert c.pem -key k.pem \
//	    -account palm.jwt -signer signer.nk -xkey xkey.nk
package main
