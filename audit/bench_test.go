package audit_test

import (
	"testing"

	"github.com/netpol/netpol/audit"
	"github.com/netpol/netpol/internal/netpoltest"
)

// BenchmarkRunLarge audits the realistic 10,000-pod, 3,000-policy cluster
// of the simulator's benchmarks, with nodes.
func BenchmarkRunLarge(b *testing.B) {
	size := netpoltest.Large
	size.Cluster = true
	s := netpoltest.Generate(1, size)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := audit.Run(s, audit.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(rep.Findings)), "findings")
	}
}

// TestRunGenerated audits small generated clusters of every construct: the
// audit must not fail on anything the simulator compiles, and its findings
// must be complete and sorted.
func TestRunGenerated(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		s := netpoltest.Generate(seed, netpoltest.SmallCluster)
		rep, err := audit.Run(s, audit.Options{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for i, f := range rep.Findings {
			if f.Check == "" || f.Message == "" || f.Fix == "" || f.Object.Name == "" {
				t.Errorf("seed %d: incomplete finding %+v", seed, f)
			}
			if i > 0 && rep.Findings[i-1].Severity < f.Severity {
				t.Errorf("seed %d: findings not sorted by severity", seed)
			}
		}
	}
}
