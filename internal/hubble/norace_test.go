//go:build !race

package hubble

// raceEnabled is set when the race detector is on.
const raceEnabled = false
