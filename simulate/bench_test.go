package simulate_test

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// large is the benchmark cluster: 10,000 pods, 3,000 policies, 100
// namespaces, built once per test binary.
var large = sync.OnceValue(func() *netpol.Snapshot { return netpoltest.Generate(1, netpoltest.Large) })

var largeProbes = []netpol.Probe{
	{Protocol: netpol.ProtocolTCP, Port: 80},
	{Protocol: netpol.ProtocolTCP, Port: 8080},
	{Protocol: netpol.ProtocolUDP, Port: 53},
}

func compileLarge(b *testing.B) *simulate.Engine {
	b.Helper()
	eng, err := simulate.Compile(large(), simulate.Options{Externals: netpoltest.Externals(1, netpoltest.Large)})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkEvaluate measures single evaluations on the large cluster after
// compile, over pseudo-random endpoint pairs and probes.
func BenchmarkEvaluate(b *testing.B) {
	eng := compileLarge(b)
	n := len(eng.Endpoints())
	r := rand.New(rand.NewPCG(1, 2))
	type tuple struct {
		src, dst simulate.EndpointID
		p        netpol.Probe
	}
	tuples := make([]tuple, 1<<16)
	for i := range tuples {
		tuples[i] = tuple{simulate.EndpointID(r.IntN(n)), simulate.EndpointID(r.IntN(n)), largeProbes[r.IntN(len(largeProbes))]}
	}
	allowed := 0
	b.ResetTimer()
	cpu := netpoltest.CPUTime()
	for i := 0; b.Loop(); i++ {
		t := &tuples[i&(len(tuples)-1)]
		if eng.Evaluate(t.src, t.dst, t.p).Verdict == simulate.Allowed {
			allowed++
		}
	}
	cpu = netpoltest.CPUTime() - cpu
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "evals/cpu-s")
}

// BenchmarkCompile measures compiling the large cluster.
func BenchmarkCompile(b *testing.B) {
	s := large()
	for b.Loop() {
		if _, err := simulate.Compile(s, simulate.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatrix measures the full matrix of the large cluster (every
// ordered pair of its ~10,000 endpoints for 3 probes) after compile.
func BenchmarkMatrix(b *testing.B) {
	eng := compileLarge(b)
	eps := eng.EndpointIDs()
	var m *simulate.Matrix
	cpu := netpoltest.CPUTime()
	for b.Loop() {
		m = eng.Matrix(eps, largeProbes)
	}
	cpu = netpoltest.CPUTime() - cpu
	pairs := float64(len(eps)) * float64(len(eps)-1) * float64(len(largeProbes))
	b.ReportMetric(pairs*float64(b.N)/b.Elapsed().Seconds(), "tuples/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(m.Classes()), "classes")
}

// BenchmarkCompileAndMatrix measures the whole job from snapshot to matrix.
func BenchmarkCompileAndMatrix(b *testing.B) {
	s := large()
	for b.Loop() {
		eng, err := simulate.Compile(s, simulate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		eng.Matrix(eng.EndpointIDs(), largeProbes)
	}
}
