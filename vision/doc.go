// Package vision holds the kiosk's image processing, all pure computation on
// 8-bit NIR frames with no knowledge of hardware or network: quality gating
// (vision/quality), liveness from strobed lit/unlit pairs (vision/liveness),
// the palm region that is sealed and sent (vision/roi), the matcher the
// reference cloud uses (vision/match), and a simulator of palms and
// presentation attacks that drives the camera simulator, demos and tests
// (vision/synth).
package vision
