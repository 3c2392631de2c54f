package simulate_test

import (
	"math/rand/v2"
	"testing"

	nt "github.com/netpol/netpol/internal/netpoltest"
)

// FuzzEvaluate generates a small snapshot from the seed (with the Cluster
// constructs when cluster is set) and compares Evaluate and Matrix with the
// reference evaluator on every tuple: with the policies as generated and
// shuffled, and with both ipBlock semantics.
//
//	go test ./simulate -run '^$' -fuzz FuzzEvaluate -fuzztime 5m
func FuzzEvaluate(f *testing.F) {
	for seed := range int64(16) {
		f.Add(seed, seed%2 == 0)
	}
	f.Fuzz(func(t *testing.T, seed int64, cluster bool) {
		size := nt.Small
		if cluster {
			size = nt.SmallCluster
		}
		for _, ignorePods := range []bool{false, true} {
			checkAgainstReference(t, newRefCase(seed, size, ignorePods, nil))
			perm := rand.New(rand.NewPCG(uint64(seed), 3))
			checkAgainstReference(t, newRefCase(seed, size, ignorePods, perm))
		}
	})
}
