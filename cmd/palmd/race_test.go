//go:build sim && race

package main

// raceEnabled: under the race detector the simulator renders every frame
// and screen several times slower, and a test that runs the whole palmd on
// the real clock (a capture has 8 s) runs out of time: the POS socket's
// (skipUnderRace). The scenarios run on the frame clock (onFrameClock),
// which waits for the renderer, and so under the race detector too.
const raceEnabled = true
