package hubble

import (
	"bufio"
	"context"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/netpol/netpol"
)

// replayServer is a real cilium Observer service that replays recorded
// flows: those at or after the request's since, in order, then it follows
// (waits) like Hubble does with follow=true.
type replayServer struct {
	observerpb.UnimplementedObserverServer
	flows []*observerpb.GetFlowsResponse
	// dropAfter, when positive, makes the first call fail with
	// Unavailable after sending that many flows.
	dropAfter int
	// delay is waited before each flow (a slow server).
	delay time.Duration
	// generate, when positive, sends that many copies of flows in a
	// cycle, each with a new time, as fast as possible, instead.
	generate int

	mu       sync.Mutex
	requests []*observerpb.GetFlowsRequest
}

func (s *replayServer) GetFlows(req *observerpb.GetFlowsRequest, stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	s.mu.Lock()
	s.requests = append(s.requests, proto.CloneOf(req))
	call := len(s.requests)
	s.mu.Unlock()
	if s.generate > 0 {
		return s.generateFlows(stream)
	}
	sent := 0
	for _, r := range s.flows {
		if req.GetSince() != nil && respTime(r).Before(req.GetSince().AsTime()) {
			continue
		}
		if call == 1 && s.dropAfter > 0 && sent == s.dropAfter {
			return status.Error(codes.Unavailable, "replay server: dropping the stream")
		}
		if s.delay > 0 {
			select {
			case <-time.After(s.delay):
			case <-stream.Context().Done():
				return stream.Context().Err()
			}
		}
		if err := stream.Send(r); err != nil {
			return err
		}
		sent++
	}
	<-stream.Context().Done()
	return nil
}

// generateFlows sends s.generate flows, cycling through 1024 variants of
// the recorded ones with distinct times, encoded once: with rawCodec the
// server's work per flow is the transport's, so a throughput test
// measures the client.
func (s *replayServer) generateFlows(stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	variants := make([]preEncoded, 1024)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range variants {
		m := proto.CloneOf(s.flows[i%len(s.flows)])
		ts := timestamppb.New(base.Add(time.Duration(i) * time.Microsecond))
		m.Time, m.GetFlow().Time = ts, ts
		b, err := proto.Marshal(m)
		if err != nil {
			return err
		}
		variants[i] = b
	}
	for i := range s.generate {
		if err := stream.SendMsg(variants[i%len(variants)]); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// preEncoded is a message marshalled beforehand, sent as is by rawCodec.
type preEncoded []byte

// rawCodec is the proto codec, except that it sends preEncoded bytes
// unchanged.
type rawCodec struct{ encoding.CodecV2 }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if b, ok := v.(preEncoded); ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return c.CodecV2.Marshal(v)
}

// rawServer is the server option that installs rawCodec.
func rawServer() grpc.ServerOption {
	return grpc.ForceServerCodecV2(rawCodec{encoding.GetCodecV2("proto")})
}

func (s *replayServer) received() []*observerpb.GetFlowsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// respTime is the time of a recorded flow.
func respTime(r *observerpb.GetFlowsResponse) time.Time {
	if t := r.GetFlow().GetTime(); t != nil {
		return t.AsTime()
	}
	return r.GetTime().AsTime()
}

// startServer serves s on a loopback port until the test ends.
func startServer(t testing.TB, s *replayServer, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	observerpb.RegisterObserverServer(srv, s)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// recordedFlows returns the flow records of the given fixtures, in order.
func recordedFlows(t testing.TB, names ...string) []*observerpb.GetFlowsResponse {
	t.Helper()
	var out []*observerpb.GetFlowsResponse
	for _, name := range names {
		f, err := os.Open("testdata/flows/" + name + ".jsonl")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, maxLine)
		for sc.Scan() {
			var r observerpb.GetFlowsResponse
			if err := unmarshal.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if r.GetFlow() != nil {
				out = append(out, &r)
			}
		}
		f.Close()
	}
	return out
}

// expectedFlows converts recorded flows as the relay source must.
func expectedFlows(t testing.TB, recs []*observerpb.GetFlowsResponse) []netpol.Flow {
	t.Helper()
	var lc labelCache
	var out []netpol.Flow
	for _, r := range recs {
		var f netpol.Flow
		kind, err := convertFlow(r.GetFlow(), r.GetNodeName(), r.GetTime(), &f, &lc)
		if err != nil {
			t.Fatal(err)
		}
		if kind == recFlow {
			out = append(out, f)
		}
	}
	return out
}

// collect runs src until it has delivered want flows (then cancels it) or
// ends, and returns the flows and Run's error.
func collect(t testing.TB, src netpol.FlowSource, want int) ([]netpol.Flow, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []netpol.Flow
	err := src.Run(ctx, func(f *netpol.Flow) error {
		got = append(got, *f)
		if len(got) == want {
			cancel()
		}
		return nil
	})
	if err == context.Canceled && len(got) == want {
		err = nil
	}
	return got, err
}

// sortByTime orders recorded flows by time, keeping equal times in order.
func sortByTime(recs []*observerpb.GetFlowsResponse) {
	slices.SortStableFunc(recs, func(a, b *observerpb.GetFlowsResponse) int { return respTime(a).Compare(respTime(b)) })
}

// cloneResp deep-copies a recorded flow.
func cloneResp(r *observerpb.GetFlowsResponse) *observerpb.GetFlowsResponse { return proto.CloneOf(r) }
