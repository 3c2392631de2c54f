package hubble

import (
	"sync"
	"sync/atomic"

	"github.com/netpol/netpol"
)

// maxProblems bounds SourceStats.Problems; Rejected still counts them all.
const maxProblems = 100

// counters collects SourceStats while Run goes on; Stats may read them
// concurrently (progress displays).
type counters struct {
	flows    atomic.Int64
	rejected atomic.Int64
	skipped  [len(skipName)]atomic.Int64

	mu       sync.Mutex
	problems []string
}

// count records one decoded record of kind k.
func (c *counters) count(k recordKind) {
	switch k {
	case recFlow:
		c.flows.Add(1)
	case recBlank:
	default:
		c.skipped[k].Add(1)
	}
}

// reject records a malformed record.
func (c *counters) reject(problem string) {
	c.rejected.Add(1)
	c.mu.Lock()
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, problem)
	}
	c.mu.Unlock()
}

// stats returns a copy of the counts. Skipped is nil when nothing was
// skipped.
func (c *counters) stats() netpol.SourceStats {
	st := netpol.SourceStats{Flows: c.flows.Load(), Rejected: c.rejected.Load()}
	for k := range c.skipped {
		if n := c.skipped[k].Load(); n > 0 {
			if st.Skipped == nil {
				st.Skipped = make(map[string]int64)
			}
			st.Skipped[skipName[k]] = n
		}
	}
	c.mu.Lock()
	st.Problems = append([]string(nil), c.problems...)
	c.mu.Unlock()
	return st
}
