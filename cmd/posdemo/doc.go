// Command posdemo is an example point of sale: it asks a kiosk, over the
// kiosk's local POS socket (package firmware/pos), to authorise a payment,
// present a loyalty id or check an age, and prints the answer.
//
//	posdemo [-addr 127.0.0.1:7700] pay -amount 12.50 -currency EUR -merchant "Corner Shop" [-id m1] [-cancel-after 5s]
//	posdemo [-addr 127.0.0.1:7700] loyalty [-id m2]
//	posdemo [-addr 127.0.0.1:7700] age -over 18 [-id m3]
//
// Sending the same -id again asks again without a second charge: the
// kiosk answers with the answer it gave. Exit status: 0 approved (or
// over), 1 anything else, 2 a usage error.
package main
