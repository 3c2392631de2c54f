package cli

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// followServer is a cilium Observer service that sends its flows, then
// follows (waits) as Hubble Relay does.
type followServer struct {
	observerpb.UnimplementedObserverServer
	flows []*flowpb.Flow
}

func (s *followServer) GetFlows(_ *observerpb.GetFlowsRequest, stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	for _, f := range s.flows {
		resp := &observerpb.GetFlowsResponse{NodeName: "n1", Time: f.Time, ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: f}}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

func relayFlow(i int, srcPod, dstPod string) *flowpb.Flow {
	return &flowpb.Flow{
		Time:    timestamppb.New(learnT0.Add(timeSecond(i))),
		Verdict: flowpb.Verdict_FORWARDED,
		IP:      &flowpb.IP{Source: "10.0.0.1", Destination: "10.0.0.2", IpVersion: flowpb.IPVersion_IPv4},
		L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{
			SourcePort: uint32(40000 + i), DestinationPort: 8080, Flags: &flowpb.TCPFlags{SYN: true}}}},
		Source:      &flowpb.Endpoint{Namespace: "shop", PodName: srcPod, Identity: 1234, Labels: []string{"k8s:app=web"}},
		Destination: &flowpb.Endpoint{Namespace: "shop", PodName: dstPod, Identity: 5678, Labels: []string{"k8s:app=cart"}},
		NodeName:    "n1",
		Type:        flowpb.FlowType_L3_L4,
	}
}

// TestLearnRelay follows a real gRPC Observer on loopback for a short
// --duration: the flows it sent are in the state, and the namespace given
// to --namespace has a learning window.
func TestLearnRelay(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	srv := grpc.NewServer()
	observerpb.RegisterObserverServer(srv, &followServer{flows: []*flowpb.Flow{
		relayFlow(0, "web-6b8f9c7d5-k2m9p", "cart-6b8f9c7d5-x2x4z"),
		relayFlow(1, "web-6b8f9c7d5-k2m9p", "cart-6b8f9c7d5-x2x4z"),
	}})
	go srv.Serve(lis)
	defer srv.Stop()
	path := filepath.Join(t.TempDir(), "s.state")
	var stdout, stderr bytes.Buffer
	code := Main("netpol", []string{"learn", "--hubble", lis.Addr().String(), "--namespace", "shop,quiet",
		"--duration", "500ms", "--state", path}, nil, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", code, stderr.String())
	}
	if got := countOf(t, path); got != 2 {
		t.Errorf("count %d, want 2; stderr: %s", got, stderr.String())
	}
	if !strings.Contains(stderr.String(), "learned 2 flows") {
		t.Errorf("stderr %q lacks the summary", stderr.String())
	}
	g := loadState(t, path)
	if _, ok := g.Windows()["quiet"]; !ok {
		t.Errorf("no learning window for the quiet namespace: %v", g.Windows())
	}
}
