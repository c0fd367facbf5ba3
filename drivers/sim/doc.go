// Package sim simulates every kiosk part on one shared world, so that the same
// scripted scenarios drive demos, tests and hardware-in-the-loop rigs.
//
// A World holds what a real kiosk's surroundings would: the hand (or attack)
// hovering over the scanner, rendered by vision/synth as 1280x800 NIR frames;
// whether the NIR LEDs are lit; the card in the reader; keys being pressed; what
// the screen shows; and how often the gate opened. World's methods are the
// script (Hover, Withdraw, InsertCard, Type); its Camera, Light, Presence,
// Display, Cards, Keypad and Gate are the parts, each implementing the
// interface of its drivers package.
//
// Simulated people follow the screen as people do: they move the hand once
// when guided (move lower, higher, to the centre), and lift it and hover
// it again when an enrolment asks for another capture ("palm_again"). A
// person's right palm (Person.RightHand, "hand": "right") is another palm
// to the renderer than the left.
//
// Scenarios (see Scenario) are JSON scripts of actions and expectations played
// against a World while palmd runs; built-in ones live in scenarios/.
//
// The simulator's limits: frames come from a procedural hand model (see
// vision/synth), not from optics; the presence sensor reads the scene's nominal
// distance without noise; the camera never drops frames unless told to.
package sim
