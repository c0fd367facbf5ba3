// Package wire is the uplink's wire schema: requests (sealed parts only),
// the cloud's signed statements (decisions and commands), telemetry events,
// the plaintext palm record that is sealed, and the NATS subjects.
//
// The palm record is versioned by its magic: "PALM1" is one capture
// (AppendCapture, ParseCapture), which every flow but enrolment sends;
// "PALM2" is an enrolment's captures, up to MaxPerHand of each palm, each
// named left or right (AppendEnrolCapture). ParseCaptures reads both.
//
// Everything is JSON with stable field names. Decoders of bytes from the
// network (DecodeRequest, DecodeEvent, Verify, ParseCapture, ParseCaptures) are strict:
// bounded size, unknown fields rejected, nothing after the value, every
// field validated; their errors never quote the input.
//
// A Statement is signed with Ed25519ctx (RFC 8032, context "palmd uplink
// v1") over its exact JSON bytes, carried in a Signed envelope. It names the
// device, a random 128-bit nonce, its issue time and expiry; the receiver
// checks those (see uplink.Client).
package wire
