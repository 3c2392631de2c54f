package hubble

import (
	"context"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/proto"

	"github.com/netpol/netpol"
)

// relayFloor is the live rate netpol learn must sustain (issue 3, §4).
const relayFloor = 50_000

// relayRate streams n generated flows, encoded beforehand, from a loopback
// server through the relay source. It returns flows per second of wall
// time, and per second of CPU time of the whole process (the server's
// transport and the client), which does not depend much on what else the
// machine runs (0 when unknown).
func relayRate(tb testing.TB, n int) (wall, cpu float64) {
	tb.Helper()
	srv := &replayServer{flows: recordedFlows(tb, "hubble-10-flows", "hubble-5-dns-flows", "hubble-5-http-flows"), generate: n}
	src := NewRelaySource(startServer(tb, srv, rawServer()), RelayOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got := 0
	start, cpuStart := time.Now(), cpuTime()
	err := src.Run(ctx, func(*netpol.Flow) error {
		if got++; got == n {
			cancel()
		}
		return nil
	})
	elapsed, cpuUsed := time.Since(start), cpuTime()-cpuStart
	if got != n {
		tb.Fatalf("received %d of %d flows: %v", got, n, err)
	}
	wall = float64(n) / elapsed.Seconds()
	if cpuUsed > 0 {
		cpu = float64(n) / cpuUsed.Seconds()
	}
	return wall, cpu
}

func TestRelayThroughput(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("throughput is not measured in -short mode or under the race detector")
	}
	wall, cpu := relayRate(t, 200_000)
	t.Logf("%.0f flows/s through gRPC on loopback, %.0f per CPU second of server and client together", wall, cpu)
	// A busy machine slows the wall rate; the CPU rate says whether the
	// code keeps up, and it counts the server's transport work too.
	if wall < relayFloor && cpu < relayFloor {
		t.Errorf("%.0f flows/s (%.0f per CPU second) through the relay source, want at least %d", wall, cpu, relayFloor)
	}
}

// BenchmarkRelay streams flows through a loopback Observer server and the
// relay source (one op = one flow).
func BenchmarkRelay(b *testing.B) {
	n := max(b.N, 1000)
	b.ResetTimer()
	wall, cpu := relayRate(b, n)
	b.ReportMetric(wall, "flows/s")
	b.ReportMetric(cpu, "flows/cpu-s")
}

// BenchmarkRelayClient measures the client's share of a live flow: the
// protobuf decoding that gRPC does, then conversion (one op = one flow);
// flows/cpu-s includes the garbage collector's work.
func BenchmarkRelayClient(b *testing.B) {
	recs := recordedFlows(b, "hubble-10-flows", "hubble-5-dns-flows", "hubble-5-http-flows")
	wire := make([][]byte, len(recs))
	for i, r := range recs {
		wire[i], _ = proto.Marshal(r)
	}
	src := NewRelaySource("unused", RelayOptions{}).(*relaySource)
	st := &streamState{}
	emit := func(*netpol.Flow) error { return nil }
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		var r observerpb.GetFlowsResponse
		if err := proto.Unmarshal(wire[i%len(wire)], &r); err != nil {
			b.Fatal(err)
		}
		if err := src.receive(&r, st, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(b.N)/used.Seconds(), "flows/cpu-s")
	}
}
