//go:build race

package hubble

// raceEnabled is set when the race detector, which slows everything down
// many times, is on: throughput floors are then not checked.
const raceEnabled = true
