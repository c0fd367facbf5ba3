// Package firmware is the kiosk's brain: a supervisor, the kiosk loop and
// the flows (identify with the gate's door, enrol of one or both palms
// from several captures each, delete-my-data with a
// second factor, and pay, loyalty and age for a point of sale, whose link
// is package pos), built only on the driver interfaces, the vision gates
// and the uplink's sealing and request API. It has no hardware or network
// code of its own.
//
// One goroutine (Kiosk.Run's) owns the kiosk's state. Everything that
// happens reaches it as a typed input on one channel: presence edges from
// the sensor's sampler, card and key input from each part's supervisor,
// part health, the cloud's health and verified commands (pushed by the
// uplink), the point of sale's requests and departures (Kiosk.POS), and
// mode requests (maintenance, updating). Time comes from an
// injected clock (github.com/jonboulle/clockwork): there are no polling
// loops and no bare sleeps, and the tests drive a fake clock.
//
//	inputs ─▶ loop (supervisor: serving · maintenance · updating · out of service)
//	              │ starts one job at a time: a session (a flow) or a camera probe
//	              ▼
//	          session: hover ─▶ capture (quality gate, guidance) ─▶ liveness
//	                   ─▶ palm region ─▶ seal ─▶ request ─▶ decision ─▶ display, gate
//
// Flows are one file each (flow_*.go), registered in one table (flow.go):
// each names its trigger, steps, screens, request and what it does with the
// outcome. A session hears only the input a step asks for (session.listen);
// the loop drops the rest, and wipes a card number wherever it drops one.
// Attempt limits (attempts.go, after NIST SP 800-63B-4): at most 5
// consecutive failed biometric attempts at a kiosk, 10 where
// presentation-attack detection ran on them, then a delay of 30 s before
// the next, doubling with each further failure; the screen says when to
// try again, and nothing is captured or sent meanwhile.
// A mode change ends a running session (maintenance, camera or cloud down,
// shutdown) or lets it finish (an update).
// Reversals are stored and forwarded (voids.go): a void of a payment the
// point of sale was not told of that gets no approved answer is queued,
// kept in the data directory (Options.DataDir, VoidsFile; in memory only
// without one), and retried oldest first, with a backoff on the kiosk's
// clock and at once when the cloud is back, until the cloud approves it. The watchdog is fed while the
// loop's heartbeats go on and no job overran its budget.
//
// Every part that delivers input is supervised on its own: a garbage read is
// counted and logged at most once a minute and never delays the next read;
// a part that fails is reported down (a health event), reopened with a
// backoff if it can be (Reopen), and reported up again.
//
// Events go to a bus (package bus) that stdout, telemetry and the scenario
// player subscribe to. They carry no biometric, card or phone data. Raw
// frames live only in the Kiosk's locked frame buffers, which are zeroed as
// soon as the capture is sealed; card and phone numbers are sealed and
// zeroed the same way.
package firmware
