//go:build sim && race

package main

// raceEnabled: under the race detector the simulator renders every frame
// and screen several times slower, and the scenarios that run the whole
// palmd on the real clock (a capture has 8 s) run out of time; they run in
// the pass without it and in make hil.
const raceEnabled = true
