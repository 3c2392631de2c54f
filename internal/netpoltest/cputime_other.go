//go:build !unix

package netpoltest

import "time"

// CPUTime returns 0 where the process's CPU time cannot be read; rates per
// CPU second are then not reported.
func CPUTime() time.Duration { return 0 }
