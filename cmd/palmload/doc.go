// Command palmload is the fleet load tool: it starts a region in one
// process (a NATS cluster with JetStream, several reference-cloud
// instances in their queue group, people enrolled in the JetStream
// bucket), or reaches an existing one (-url), connects N simulated
// kiosks, each with its own credentials (user JWT, nkey and client
// certificate), and sends identify requests at an open-loop arrival rate:
// each kiosk every -interval, at a random phase, whether or not its
// previous request was answered. It can kill a server node of the region
// it started in the middle of the run and restart it.
//
// With -bundle MIB it runs a firmware rollout instead of identifications:
// the cloud publishes one signed bundle of MIB MiB, nobody is enrolled, and
// each kiosk downloads the bundle once through the cloud's bundle service
// (cloud.ServeBundles, uplink.Client.Bundle), from a random instant within
// -duration, checked against its signed size and SHA-256; -kill-node kills
// a server in the middle as before. A "request" of the report is then one
// kiosk's download, its latency the download's duration, and
// bundle_mib_per_s the bytes completed per second of the run.
//
// It reports how many requests were answered, the errors by kind (busy:
// the cloud shed the request with a retry "busy" answer because it could
// not serve it in time; wrong_answer; unanswered within -give-up; other),
// the latency
// percentiles (from the first send of a request to its verified answer,
// retries included) and the throughput, as text, and as one JSON object
// on the last line of standard output (-json prints only that line).
//
//	palmload -kiosks 1000 -interval 5s -duration 60s -enrolled 10000 [-kill-node] [-json]
//	palmload -bundle 4 -kiosks 1000 -duration 60s [-kill-node] [-json]
//	palmload -url URL[,URL...] -issuer DIR -kiosk-keys FILE [-kiosks N] [-enrolled N] [-json]
//	palmload -serve DIR
//	palmload -version
//	palmload -h
//
// A request that is not answered within -timeout (a node died under it)
// is sent again with the same id: the cloud answers a request id once,
// and again with the same signed answer (uplink/cloud), so every request
// is answered exactly once however often it is sent. Each cloud instance
// serves -workers requests at once and queues 4 per worker; a request
// that finds the queue full, or waits in it past 2 s, is answered busy at
// once, so an overloaded region answers late requests quickly instead of
// letting them queue until the kiosk gives up.
//
// With -url palmload starts nothing and loads an existing region (-kill-node
// and the flags that size the region it starts are refused). It mints each
// kiosk's credentials from the region's issuer files, as an operator holds
// them (dev.LoadIssuer): the PALM account's nkey seed signs the kiosk's
// user JWT (the device permissions of wire.DevicePermissions), the fleet
// CA's certificate and key issue its client certificate naming its nkey,
// and the server CA verifies the servers. The cloud's public keys come as
// a kiosk gets them: -kiosk-keys is the JSON "palmcloud keygen" prints. It
// cannot write the region's enrolment bucket, so before the timed run its
// kiosks enrol the -enrolled people through ordinary sealed enrol requests
// (a palm already enrolled by an earlier run with the same -seed is
// identified to learn its subject; the report's enrolled_by_palmload
// counts the people enrolled in this run); the people stay enrolled.
//
// palmload -serve DIR starts the in-process region alone, writes its
// issuer files (dev.Authority's, Issuer.WriteFiles) and its cloud's keys
// (kiosk-keys.json) into DIR, prints the palmload -url command that loads
// it and serves until interrupted: a region to try -url on.
//
// palmload stays its own command rather than "palmctl load": it links a
// whole region (nats-server, the reference cloud, the matcher), and
// palmctl, the console client a technician carries and a rig runs, links
// none of that.
package main
