// Package uplink is the kiosk's connection to the cloud: a NATS client that
// sends sealed requests, verifies the cloud's signed decisions and commands,
// and publishes telemetry.
//
// # Using it from palmd
//
// With no NATS URL configured, start the embedded server and reference cloud
// and dial it:
//
//	d, err := dev.Start(ctx, cfg.DeviceID, log)      // uplink/dev; d.Close() after c.Close()
//	c, err := uplink.Dial(d.URL, cfg.DeviceID, d.SignKey,
//		append(d.ClientOptions(), uplink.Logger(log), uplink.OnHealth(h), uplink.OnCommand(cmd))...)
//	palmSealer, err := seal.NewSealer(d.SealKey)     // palm and phone parts
//	cardSealer, err := seal.NewSealer(d.PaymentKey)  // card part
//
// With a configured cloud, the same calls take the configuration instead:
// uplink.Dial(cfg.Uplink.URL, id, signKey, uplink.CredsFile(cfg.Uplink.Creds),
// uplink.TLSFiles(cfg.Uplink.CA, cfg.Uplink.Cert, cfg.Uplink.Key), ...), with
// the keys base64-decoded from the configuration.
//
// One request:
//
//	r := wire.Request{ID: id, Device: dev, Flow: wire.FlowIdentify, Time: now}
//	rec := wire.AppendCapture(buf[:0], roi)                   // plaintext palm record
//	r.Palm, err = palmSealer.Seal(seal.ContextOf(r, seal.PartPalm), rec)
//	clear(rec)
//	dec, err := c.Do(ctx, r)                                  // verified decision
//
// ctx bounds the wait for the answer: give it a deadline. Do returns a
// wire.Decision only after checking that it is signed by the
// cloud key, names this device and this request, is inside its validity
// window and carries a nonce never seen before; otherwise it returns one of
// the sentinel errors (ErrBadSignature, ErrExpired, ErrReplayed,
// ErrWrongDevice, ErrWrongRequest, ErrMalformed), logs the rejection and
// publishes an "uplink_rejected" telemetry event. ErrNotConnected and
// ErrNoCloud mean the request was not answered; the firmware shows "try
// again". Cloud commands (delete-my-data, config, update) pass the same
// checks and then reach the OnCommand handler, one at a time. Commands the
// cloud queued while the kiosk was offline (JetStream) arrive after it
// connects, in order, once each: the client acknowledges a queued command
// after OnCommand returns, and a redelivery of one already handled (its
// acknowledgement was lost) is acknowledged again without calling
// OnCommand. Queued commands may be valid for longer than decisions
// (MaxCommandValidity, 48 hours by default).
//
// Every command carries the cloud's sequence number for this device
// (wire.Command.Seq). With CommandSequence the client records it, durably
// and before OnCommand runs, in a Sequence (palmd's is sealed on the data
// partition, secureboot.FileSequence) and refuses a command whose number is
// not above the last accepted (ErrReplayed): nonces are forgotten when palmd
// restarts, the sequence is not, so a command replayed after a restart
// within its validity window is refused too.
//
// An update command names a firmware bundle in the cloud's JetStream object
// store (wire.BundleBucket). Bundle streams it as it is read and checks the
// bytes against the signed command (size, SHA-256): anything else ends in
// ErrBundleMismatch instead of io.EOF, so a verifier that reads to the end
// (secureboot's Updater.Install) never accepts other bytes. It asks the
// cloud for the bytes, 512 KiB a round trip (wire.BundleRequest), since a
// kiosk may not read JetStream itself (wire.DevicePermissions says why).
// A round trip that fails in a way that passes (no reply, no cloud
// instance listening, the cloud's bucket unavailable) is tried again after
// a pause, for up to about 5 minutes, from the same byte on.
//
// Dial never blocks on the network: the connection retries forever in the
// background (explicit wait and jitter), and connect, disconnect, reconnect
// and close are logged and reported to the OnHealth callback.
//
// The inbox prefix is per device (_INBOX.<device>), so a kiosk's NATS user
// can be limited to its own subjects: publish palm.req.<device>.> and
// palm.tel.<device>.>, subscribe _INBOX.<device>.> and palm.cmd.<device>.>
// and publish the acknowledgements of its own queued commands and the
// JetStream API calls that read the bundle bucket (see
// wire.DevicePermissions). The nonces of accepted decisions and commands
// are remembered in a time-ordered window until the statement they came
// with has expired, at a cost per message that does not grow with the
// number held.
package uplink
