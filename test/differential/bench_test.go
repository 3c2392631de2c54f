package differential

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// benchTuples is how many tuples each oracle evaluates in BenchmarkOracles:
// enough for a stable rate, far fewer than the full matrix (which would take
// the oracles minutes).
const benchTuples = 300000

// BenchmarkOracles runs netpol and the oracles on the same generated cluster
// (10,000 pods, 3,000 policies, 3 probes) in one run and reports each one's
// rate in tuples per second, and netpol's full-matrix rate over each
// oracle's. The oracles' rates are measured on pseudo-random tuples after
// their setup; netpol's is the whole matrix after compile.
func BenchmarkOracles(b *testing.B) {
	s := netpoltest.Generate(1, netpoltest.Large)
	probes := []netpol.Probe{
		{Protocol: netpol.ProtocolTCP, Port: 80},
		{Protocol: netpol.ProtocolTCP, Port: 8080},
		{Protocol: netpol.ProtocolUDP, Port: 53},
	}
	sc, err := netpoltest.NewScenario(s, nil, probes)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := sc.Write(&buf); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "large.json")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	eng, err := simulate.Compile(s, simulate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	eps := eng.EndpointIDs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		eng.Matrix(eps, probes)
	}
	perMatrix := time.Since(start).Seconds() / float64(b.N)
	b.StopTimer()
	tuples := float64(len(eps)) * float64(len(eps)-1) * float64(len(probes))
	ours := tuples / perMatrix
	b.ReportMetric(ours, "netpol-tuples/s")
	b.ReportMetric(perMatrix, "netpol-matrix-s")

	bins := buildOracles(b, "knp", "cyclonus")
	for _, o := range []struct {
		name, bin string
		args      []string
	}{
		{"knp-pure", bins["knp"], []string{"-pure"}},
		{"knp", bins["knp"], nil},
		{"cyclonus", bins["cyclonus"], nil},
	} {
		args := append([]string{"-bench", strconv.Itoa(benchTuples), "-scenario", file}, o.args...)
		out, err := exec.Command(o.bin, args...).Output()
		if err != nil {
			b.Fatalf("%s %v: %v", o.name, args, err)
		}
		var res struct {
			Tuples          int64   `json:"tuples"`
			TuplesPerSecond float64 `json:"tuplesPerSecond"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			b.Fatalf("%s: decoding %q: %v", o.name, out, err)
		}
		b.ReportMetric(res.TuplesPerSecond, o.name+"-tuples/s")
		b.ReportMetric(ours/res.TuplesPerSecond, "x-"+o.name)
	}
}
