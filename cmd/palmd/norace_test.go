//go:build sim && !race

package main

const raceEnabled = false
