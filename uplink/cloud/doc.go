// Package cloud is the reference cloud for development, tests and demos. It
// answers every kiosk's requests: it opens the sealed parts (card with the
// separate payment key), enrols and identifies palms with vision/match, and
// signs its decisions.
//
// Flows: enrol (palm, phone and card → a new subject pseudonym; a palm
// already enrolled is declined as "duplicate_palm"), identify (approved with
// the subject, or not_recognized) and delete (the matching enrolment is
// removed and approved; unknown → not_recognized).
//
// A request is answered only if it arrives on its own device's subject
// (which NATS permissions vouch for), its time is within MaxAge, and its id
// was not seen before; decisions are signed for that device with a fresh
// nonce and a short expiry.
//
// Limits: the store is in memory and lost at exit; the 1:N search is linear
// over every enrolment; match.Threshold is tuned on synthetic palms, not on
// a real population. Phone and card are kept only as keyed hashes. It is a
// reference, not a production service.
package cloud
