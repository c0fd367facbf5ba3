// Package cloud is the reference cloud for development, tests, demos and
// load runs. It answers every kiosk's requests: it opens the sealed parts
// (card with the separate payment key), enrols and identifies palms with
// vision/match through a 1:N index (uplink/cloud/index), and signs its
// decisions.
//
// Flows: enrol (one or both palms, several captures each, phone and card →
// a new subject pseudonym; of each palm's captures every one that agrees
// with another is kept, each a template in the index, so a probe is
// compared with all of them; captures of one palm none of which agree are
// a retry "captures_disagree", one palm shown as both a retry "same_palm",
// and a palm already enrolled is declined as "duplicate_palm"), identify (approved with
// the subject, or not_recognized; the probe is searched for as it was
// placed and, only if that finds nobody, at its other poses
// (match.Poses: a region placed a little off by vision/roi); every flow
// that identifies does so; a capture that matches an enrolment begun
// in the phone app, AddPending, completes it: "app_enrolment_completed"),
// delete (only when the palm and the second factor, card or phone, belong
// to the same enrolment; every failure gets the same not_recognized), pay
// (charged to the enrolled card's token, once per device and point-of-sale
// message id, declined "over_limit" past PayLimit), void (takes back a
// payment the point of sale never learnt of), loyalty (the loyalty id, a
// keyed hash of the subject) and age (only over N, approved, or not over N,
// declined; birth dates come from SetBirthDate). Every wire.Flow has its
// case in one switch; a flow without one is refused (ErrUnknownFlow),
// never taken for another.
//
// Limits (limits.go): each kiosk's requests go through a token bucket
// (KioskRate, KioskBurst; a void is never refused), and 100 consecutive
// failures attributed to an enrolment (MaxFailures) disable its biometric.
// Without a store everything lives in the instance's memory; with one
// (Open) payments, these counts and pending app enrolments live in
// JetStream (PayBucket, FailBucket, PendingBucket) and survive restarts;
// birth dates live in the enrolment's sealed record (EnrolBucket). The
// kiosks' token buckets live in each instance's memory: with n instances
// a kiosk may send n times KioskRate.
//
// A request is answered only if it arrives on its own device's subject
// (which NATS permissions vouch for), names a reply subject in that
// device's own inbox (wire.ReplyAllowed; anything else is refused and
// counted, so no kiosk can make the cloud publish on another kiosk's
// inbox, command or telemetry subject), and its time is within MaxAge.
// Decisions are signed for that device with a fresh nonce and a short
// expiry. A request id is answered once: the same id again gets the same
// signed answer (idempotent; the kiosk refuses the repeated nonce if it
// already has the answer), from a time-ordered window in memory and, with
// a store, from the RequestBucket that every instance shares; an
// identification's answer is not stored there (asked of another instance,
// the same id is identified again).
//
// # Store, instances and commands
//
// Without Open the enrolments live in memory. With Open they live in the
// JetStream key-value bucket EnrolBucket, one record per subject, sealed at
// rest (AES-256-GCM under a key derived from the signing key, the subject
// as associated data): the templates kept of each palm and keyed hashes
// of phone and card,
// never the clear numbers. Each instance loads the bucket before it
// serves and follows it with a watch, so several instances with the same
// keys, subscribed in the queue group Queue, share the requests and each
// knows every enrolment; a restarted instance loses nobody. Each instance
// serves up to Workers requests at once: decrypting and template
// extraction run outside any lock, the index is searched under a shared
// read lock. Requests wait for a worker in a short queue; one that finds
// it full, or waits longer than QueueTimeout, is answered retry "busy" at
// once (counted in Stats.Shed) rather than queued until its kiosk gives
// up, and its id is not remembered, so it is decided when sent again.
// Commands (Send) are queued in the stream wire.CommandStream
// and delivered by a durable consumer per kiosk, in order and one at a
// time, when the kiosk is connected; the kiosk acknowledges each.
//
// Each command carries a sequence number per device: the larger of the
// device's last number plus one and the clock in microseconds, so numbers
// rise across restarts of the cloud without storage while its clock goes
// forward; one instance sends a device's commands in the order of their
// numbers (instances sending to one device at the same moment may not).
// PublishBundle verifies a signed firmware bundle while it stores it in the
// object store wire.BundleBucket and returns the wire.Update an update
// command names it by (palmcloud publish); ServeBundles reads it from
// there for the kiosks, which may not read the bucket themselves, and
// answers each on its own inbox, several at once.
//
// Limits: match.Threshold is tuned on synthetic palms, not on a real
// population. Two instances enrolling the same new palm at the same moment
// can both enrol it (the duplicate check reads each instance's index).
// Every instance holds the whole index in memory. It is a reference, not a
// production service.
package cloud
