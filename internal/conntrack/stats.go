package conntrack

import (
	"maps"
	"sync"

	"github.com/netpol/netpol"
)

// maxProblems bounds SourceStats.Problems; Rejected keeps counting.
const maxProblems = 20

// counter accumulates SourceStats; Stats may read it while Run writes.
type counter struct {
	mu sync.Mutex
	s  netpol.SourceStats
}

// flow counts one emitted flow.
func (c *counter) flow() {
	c.mu.Lock()
	c.s.Flows++
	c.mu.Unlock()
}

// skip counts one record of the given kind that is not a flow.
func (c *counter) skip(kind string) {
	c.mu.Lock()
	if c.s.Skipped == nil {
		c.s.Skipped = map[string]int64{}
	}
	c.s.Skipped[kind]++
	c.mu.Unlock()
}

// reject counts one malformed record and keeps the first problems.
func (c *counter) reject(problem string) {
	c.mu.Lock()
	c.s.Rejected++
	if len(c.s.Problems) < maxProblems {
		c.s.Problems = append(c.s.Problems, problem)
	}
	c.mu.Unlock()
}

// snapshot returns a copy of the counts.
func (c *counter) snapshot() netpol.SourceStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Skipped = maps.Clone(c.s.Skipped)
	s.Problems = append([]string(nil), c.s.Problems...)
	return s
}

// fail counts a failed operation of the given kind (such as a dump that
// will be retried) and keeps its description with the first problems.
func (c *counter) fail(kind, problem string) {
	c.skip(kind)
	c.mu.Lock()
	if len(c.s.Problems) < maxProblems {
		c.s.Problems = append(c.s.Problems, problem)
	}
	c.mu.Unlock()
}
