// Package secureboot is the kiosk's update trust chain: signed firmware
// bundles and signed device config, anti-rollback counters, and the A/B root
// slot state with a one-time trial boot.
//
// # Envelope
//
// Firmware bundles and config documents share one signed envelope:
//
//	offset  size  field
//	0       8     magic "PALMSIG1"
//	8       2     manifest length n, big-endian, 1..MaxManifestSize
//	10      n     manifest, JSON (see Manifest)
//	10+n    64    Ed25519 signature over SigningContext || bytes [0, 10+n)
//	74+n    size  payload: the root filesystem image or the config JSON
//	              (size and SHA-256 are in the manifest), then end of input
//
// The manifest names its kind ("firmware" or "config"), so a signed config
// is never accepted as a bundle and the other way round, and the signing
// context keeps these signatures apart from anything else the same key might
// sign. The payload is streamed and hashed as it is read (Bundle is an
// io.Reader); a firmware image is never held in memory.
//
// Verification checks, in order: magic and lengths (ErrMalformed,
// ErrTruncated), the signature against the trusted keys before the manifest
// is parsed (ErrBadSignature), the kind and product (ErrWrongKind,
// ErrWrongProduct), the version against the device's minimum (ErrRollback),
// and, at the end of the payload, its length and digest (ErrTruncated,
// ErrDigestMismatch, ErrMalformed for trailing bytes).
//
// # Anti-rollback
//
// Each manifest carries a version, a uint64 that only rises from one release
// to the next (the human release string such as "1.4.2" is informational).
// The device keeps two minimums, one for firmware and one for config, in its
// slot state: a bundle or config older than the minimum is refused with
// ErrRollback. The firmware minimum rises when a trial slot is committed;
// the config minimum rises when a config is accepted.
//
// Three things keep the minimum from being lowered by someone who can
// rewrite the data partition (an SD card taken out of the kiosk):
//
//   - The floor. The image carries /usr/lib/palmd/release.sig, a signed
//     header of kind "release" whose payload is the palmd executable itself
//     (fwsign release). palmd verifies it against its own binary
//     (Policy.VerifyRelease) and passes the version to the Updater (Floor):
//     no state file, present, absent or forged, takes the firmware minimum
//     below the release that is running. A factory-fresh kiosk starts at
//     its own version, not 0.
//   - Authentication. The state is a SealedFile: HMAC-SHA256 under a
//     32-byte device key, over the file's purpose, a counter value and the
//     document. A hand-written or edited file is ErrTampered.
//   - Freshness. The counter value in the file must match a Counter that
//     software cannot lower, so an older, correctly sealed copy of the file
//     is ErrTampered too, and so is a deleted file once the counter has
//     moved. A state found tampered with is rebuilt from what the device
//     can trust (the booted slot, no trial, the floor), sealed again, and
//     reported (Updater.Tampered).
//
// Counters: TPMCounter is a TPM 2.0 NV counter (go-tpm over /dev/tpmrm0);
// the eMMC's replay-protected memory block (RPMB) is the other hardware
// home (its write counter and authenticated blocks, written through the
// kernel's RPMB interface or OP-TEE), not implemented here; FileCounter is
// the simulation's stand-in and protects nothing. Which board gives which
// is in buildroot/README.md.
//
// The same sealing keeps the cloud's command sequence (FileSequence, a
// SequenceStore): a command whose sequence number is not above the last
// accepted is ErrReplay, across restarts. A sequence file found tampered
// with is ErrTampered; palmd then restarts it at its clock (Reset), below
// which the reference cloud numbers no new command. Each sealed file needs
// a counter of its own, since every save moves it.
//
// # Updaters
//
// Updater is the one interface palmd drives: Install (an io.Reader, the
// bundle as it streams from the cloud's object store, verified as it goes),
// Commit once palmd is healthy, Status, and AcceptConfig for signed config
// (checked against the config minimum in the same sealed state). Two
// backends:
//
//   - RAUC, on the kiosk: the envelope's payload is a RAUC bundle. It is
//     streamed to the data partition while it is verified, and only a
//     completely verified bundle is handed to "rauc install" (which checks
//     RAUC's own signature again and writes the inactive slot); Commit reads
//     "rauc status --output-format=json" and runs "rauc status mark-good
//     booted". The boot loader's trial boot and fallback are RAUC's. Every
//     rauc invocation goes through a Runner, so tests use a fake rauc.
//   - FileUpdater, in the simulation: a pair of slot files (or block
//     devices) written directly, with NextBoot playing the boot loader.
//
// # A/B slots and the trial boot
//
// The root filesystem has two slots, A and B. Install verifies a bundle while
// writing it into the inactive slot and, only when the whole image has been
// verified, marks that slot for a trial boot. The trial slot is booted once
// (FileUpdater.NextBoot plays the boot loader in the simulation; on the
// kiosk it is the Pi's tryboot); if the system comes back without having
// committed it, the trial has failed and the committed slot is booted again.
// Commit is what palmd calls once it is healthy (after READY) on the slot it
// booted from (BootedSlot reads it from the kernel command line,
// "palmd.slot=a"): the trial slot becomes the active one and the firmware
// minimum rises to its version.
//
// The state is small JSON, written atomically (temporary file, fsync,
// rename, fsync of the directory): sealed by SealedStore on a kiosk, plain
// in FileStore for tests.
package secureboot
