// Package synth renders synthetic near-infrared palm frames and presentation
// attacks, deterministically, for the camera simulator, demos, tests and the
// hardware-in-the-loop runner.
//
// A Capture names whose palm (Identity, see IdentityOf), which take of it
// (Seed), what is presented (Genuine, PrintedPhoto, ScreenReplay,
// RigidReplica) and under which Condition (Good, or one factor pushed out of
// range: TooFar, TooClose, OffCentre, Moving, PartlyOut, Blurred, Dark,
// Bright). NewScene renders the capture once into canonical layers; Render
// then produces the 1280x800 lit (850 nm LEDs on) or unlit frame for any
// frame index, by warping those layers to the pose of that instant and adding
// sensor noise. The same inputs always give byte-identical frames.
package synth
