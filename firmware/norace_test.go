//go:build !race

package firmware

const raceEnabled = false
