package graph_test

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
)

// syntheticFlows returns a generator of flows over 2,000 edges: 100
// client Deployments, each talking to 20 server Deployments, 20µs apart.
// In every ten flows, eight open new connections (each edge's turn comes
// every 2,000 connections, with a new source port), one is the reply to the
// previous flow and one the previous flow observed at the other end. The
// returned flow is reused from call to call, as a FlowSource does.
func syntheticFlows() func(i int) *netpol.Flow {
	type pod struct {
		name string
		ip   netip.Addr
	}
	mk := func(prefix string, i int) pod {
		return pod{fmt.Sprintf("%s%d-6b8f9c7d5-k2m9p", prefix, i), netip.AddrFrom4([4]byte{10, byte(len(prefix)), 0, byte(i)})}
	}
	var clients [100]pod
	var servers [20]pod
	for i := range clients {
		clients[i] = mk("client", i)
	}
	for i := range servers {
		servers[i] = mk("srv", i)
	}
	labels := map[string]string{"pod-template-hash": "6b8f9c7d5"}
	f := &netpol.Flow{}
	return func(i int) *netpol.Flow {
		r := i % 10
		if r == 4 || r == 9 {
			r-- // the reply to, or the other end of, the previous flow
		}
		conn := i/10*8 + r - r/5
		c, s := clients[conn%100], servers[conn/100%20]
		*f = netpol.Flow{
			Time:        t0.Add(time.Duration(i) * 20 * time.Microsecond),
			Source:      netpol.FlowEndpoint{IP: c.ip, Port: uint16(32768 + conn/2000%28000), Namespace: "shop", Pod: c.name, Labels: labels},
			Destination: netpol.FlowEndpoint{IP: s.ip, Port: 8080, Namespace: "shop", Pod: s.name, Labels: labels},
			Protocol:    netpol.ProtocolTCP, Verdict: netpol.Forwarded, Reply: netpol.No, Node: "n1",
		}
		switch i % 10 {
		case 4:
			f.Source, f.Destination = f.Destination, f.Source
			f.Reply = netpol.Yes
		case 9:
			f.Node = "n2"
		}
		return f
	}
}

// TestIngestMemory checks that memory is bounded by distinct edges, not
// flows: 1,000,000 flows over 2,000 edges stay far under 100 MB of heap.
func TestIngestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 1,000,000 flows")
	}
	const n = 1_000_000
	next := syntheticFlows()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start, cpu := time.Now(), netpoltest.CPUTime()
	b := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{})
	for i := range n {
		b.Add(next(i))
	}
	g := b.Graph()
	elapsed, cpu := time.Since(start), netpoltest.CPUTime()-cpu
	runtime.GC()
	runtime.ReadMemStats(&after)
	edges, ports := g.Len()
	if edges != 2000 || ports != 2000 {
		t.Errorf("graph has %d edges, %d ports, want 2000, 2000", edges, ports)
	}
	mb := float64(after.HeapInuse) / (1 << 20)
	t.Logf("%d flows in %v wall, %v CPU (%.0f flows/s of CPU): %d edges; HeapInuse %.1f MB after GC (%.1f MB before); stats %+v",
		n, elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), n/cpu.Seconds(), edges, mb, float64(before.HeapInuse)/(1<<20), b.Stats())
	if hwm := peakRSS(); hwm != "" {
		t.Logf("peak resident set of the test process (VmHWM): %s", hwm)
	}
	if mb > 100 {
		t.Errorf("HeapInuse %.1f MB after ingesting %d flows, want under 100 MB", mb, n)
	}
	runtime.KeepAlive(b)
}

// BenchmarkIngest measures the graph side of learning: resolving,
// deduplicating and counting flows that are already decoded.
func BenchmarkIngest(b *testing.B) {
	next := syntheticFlows()
	bld := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bld.Add(next(i))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MB")
	edges, _ := bld.Graph().Len()
	b.ReportMetric(float64(edges), "edges")
}

// peakRSS returns the VmHWM line of /proc/self/status, "" where there is
// none.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
