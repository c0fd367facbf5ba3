// Package seal encrypts captures, phone and card numbers to the cloud with
// HPKE (RFC 9180, Go's crypto/hpke), base mode, one fresh HPKE context per
// message. A sealed message is the encapsulated key followed by the AEAD
// ciphertext. The capture context (device, request, time, flow, part) is
// the associated data, so a sealed palm does not open under another request,
// part or device.
//
// Suite: KEM MLKEM768-X25519 (X-Wing), KDF HKDF-SHA256, AEAD
// ChaCha20-Poly1305. Biometric data stays sensitive for life, so the KEM is
// the post-quantum hybrid: traffic recorded today stays closed to a future
// quantum computer as long as ML-KEM-768 holds, and to today's attacker as
// long as X25519 holds. ChaCha20-Poly1305 rather than AES-256-GCM because
// kiosk SoCs often lack AES instructions (e.g. Cortex-A72), where AES is
// slower and harder to keep constant-time; both give 256-bit keys. Cost,
// measured on the 2-core amd64 dev box (go test -bench . ./uplink/seal/):
// sealing one palm record (16 KB) takes about 0.18 ms, dominated by the KEM;
// sealing 1 MB takes about 1.1–1.2 ms, 5.0x raw AES-256-GCM (with AES-NI)
// on the same data in the same loop (the x-aes-gcm metric; the ratio rises
// when the machine is loaded), and the encapsulated key adds 1120 bytes per
// message. HPKE with AES-256-GCM instead saves about 0.2 ms per MB on that
// box and nothing measurable on a palm record.
//
// Keys: GenerateKey returns the serialized public key (for NewSealer) and
// private key (a 32-byte seed, for NewOpener); configuration files carry
// them base64-encoded.
package seal
