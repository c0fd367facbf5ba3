// Package pos is the kiosk's link to a point of sale (POS): the POS asks
// the kiosk to authorise a payment, present a loyalty id or check an age,
// and the kiosk answers. One framing on every transport, a local TCP
// socket or a serial line: JSON lines (one object per line, "\n"), at most
// MaxLine bytes, version 1.
//
// Every request carries "v":1, a message "id" (1 to 64 printable
// characters, no spaces) and a "type":
//
//	{"v":1,"id":"m1","type":"pay","amount":1250,"currency":"EUR","merchant":"Corner Shop"}
//	{"v":1,"id":"m2","type":"cancel","ref":"m1"}
//	{"v":1,"id":"m3","type":"loyalty"}
//	{"v":1,"id":"m4","type":"age","over":18}
//
// Every answer names the id it answers:
//
//	{"v":1,"id":"m1","type":"result","status":"approved","reference":"pay-…"}
//	{"v":1,"id":"m1","type":"result","status":"declined","reason":"over_limit"}
//	{"v":1,"id":"m1","type":"result","status":"cancelled","reason":"pos"}
//	{"v":1,"id":"m2","type":"result","status":"ok"}
//	{"v":1,"id":"m5","type":"error","reason":"amount: want 1 to 100000000 minor units"}
//
// Statuses: approved, declined, cancelled (reason pos, customer, timeout,
// pos_gone, cloud_down or kiosk), busy (someone is being served), unavailable (the
// kiosk is out of service), in_progress (that id is being answered), ok and
// unknown_ref (to a cancel). A line that does not parse is answered with
// type "error" and the id, if one could be read.
//
// A message id is answered once: the same id again, on any connection, is
// answered with the stored answer and starts nothing (so a POS that
// retries is never charged twice); while it is being answered, with
// in_progress. A POS that goes away while a payment runs cancels it; a
// payment the cloud approved whose answer could not be written is voided,
// and the id is answered cancelled (pos_gone) from then on. A payment whose
// request reached the cloud but whose answer was lost with the cloud is
// answered cancelled (cloud_down): the kiosk voids it, retrying until the
// cloud is back and approves the void (package firmware, voids.go).
package pos
