package simulate_test

import (
	"testing"

	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// TestEachAllowed checks that Matrix.EachAllowed reports exactly the pairs
// of distinct indexes that Allowed allows, once each, with endpoints
// repeated in the list too.
func TestEachAllowed(t *testing.T) {
	for seed := range int64(100) {
		for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
			c := newRefCase(seed, size, seed%3 == 0, nil)
			e, err := simulate.Compile(c.snap, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			ids := e.EndpointIDs()
			if seed%4 == 0 && len(ids) > 1 {
				ids = append(ids, ids[0], ids[len(ids)-1])
			}
			m := e.Matrix(ids, c.probes)
			for k := range c.probes {
				got := map[[2]int]int{}
				m.EachAllowed(k, func(i, j int) { got[[2]int{i, j}]++ })
				for i := range ids {
					for j := range ids {
						want := i != j && m.Allowed(i, j, k)
						if n := got[[2]int{i, j}]; want && n != 1 || !want && n != 0 {
							t.Fatalf("%s: %s -> %s on %s: reported %d times, Allowed says %v", c,
								e.Endpoint(ids[i]).ID(), e.Endpoint(ids[j]).ID(), c.probes[k], n, want)
						}
					}
				}
			}
		}
	}
}
