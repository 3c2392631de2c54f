package kube_test

import (
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/cli"
	"github.com/netpol/netpol/internal/kube/kubetest"
	"github.com/netpol/netpol/internal/state"
)

// dropServer is a cilium Observer service on loopback: for a request
// filtered on namespace ns, it sends the dropped flows of drops[ns], each
// timed when sent, then follows as Hubble Relay does.
type dropServer struct {
	observerpb.UnimplementedObserverServer
	drops map[string][]*flowpb.Flow

	mu       sync.Mutex
	requests []string // the namespace of each request
}

func (s *dropServer) GetFlows(req *observerpb.GetFlowsRequest, stream grpc.ServerStreamingServer[observerpb.GetFlowsResponse]) error {
	ns := ""
	if w := req.GetWhitelist(); len(w) > 0 && len(w[0].GetSourcePod()) > 0 {
		ns = strings.TrimSuffix(w[0].GetSourcePod()[0], "/")
	}
	s.mu.Lock()
	s.requests = append(s.requests, ns)
	s.mu.Unlock()
	for _, f := range s.drops[ns] {
		f.Time = timestamppb.Now()
		resp := &observerpb.GetFlowsResponse{NodeName: "n1", Time: f.Time, ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: f}}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// dropped returns a dropped TCP flow from pod src to pod dst of namespace
// ns, both pods of Deployments named by their first dash-separated part.
func dropped(ns, src, dst string, port uint32) *flowpb.Flow {
	ep := func(pod string, id uint32) *flowpb.Endpoint {
		app := strings.SplitN(pod, "-", 2)[0]
		return &flowpb.Endpoint{Namespace: ns, PodName: pod, Identity: id, Labels: []string{"k8s:app=" + app},
			Workloads: []*flowpb.Workload{{Name: app, Kind: "Deployment"}}}
	}
	return &flowpb.Flow{
		Verdict:        flowpb.Verdict_DROPPED,
		DropReasonDesc: flowpb.DropReason_POLICY_DENIED,
		IP:             &flowpb.IP{Source: "10.9.0.1", Destination: "10.9.0.2", IpVersion: flowpb.IPVersion_IPv4},
		L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{
			SourcePort: 40000, DestinationPort: port, Flags: &flowpb.TCPFlags{SYN: true}}}},
		Source:      ep(src, 1234),
		Destination: ep(dst, 5678),
		NodeName:    "n1",
		Type:        flowpb.FlowType_L3_L4,
	}
}

// TestStagedApply rolls out two namespaces, allow rules before the deny
// in each, pausing between them. Hubble then reports, in the first, a
// dropped connection that was never learned (no rollback) and, in the
// second, a dropped connection that the learned state saw forwarded: the
// second namespace is rolled back to its policies before the apply, the
// first keeps the new ones, and the exit code is 1.
func TestStagedApply(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	first, second := s.Namespace(t, "stage-a", nil), s.Namespace(t, "stage-b", nil)
	if first > second {
		first, second = second, first
	}
	for _, ns := range []string{first, second} {
		deployment(t, cs, ns, "web", 1)
		deployment(t, cs, ns, "api", 1)
		createPolicy(t, cs, policyYAML(ns, "legacy", "db", "api", 5432))
	}
	before := policies(t, cs, second)

	learned := graph.New()
	for _, ns := range []string{first, second} {
		learned.Add(graph.Edge{
			From: graph.WorkloadNode(graph.KindDeployment, ns, "web"), To: graph.WorkloadNode(graph.KindDeployment, ns, "api"),
			Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 8080, Count: 12, FirstSeen: time.Unix(1e9, 0), LastSeen: time.Unix(1e9+60, 0)}},
		})
	}
	statePath := filepath.Join(t.TempDir(), "shop.state")
	if err := state.Save(statePath, learned); err != nil {
		t.Fatal(err)
	}

	srv := &dropServer{drops: map[string][]*flowpb.Flow{
		first:  {dropped(first, "web-6b8f9c7d5-k2m9a", "api-6b8f9c7d5-k2m9a", 9999)},
		second: {dropped(second, "web-6b8f9c7d5-k2m9a", "api-6b8f9c7d5-k2m9a", 8080)},
	}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	observerpb.RegisterObserverServer(g, srv)
	go g.Serve(lis)
	t.Cleanup(g.Stop)

	var files = map[string]string{}
	for _, ns := range []string{first, second} {
		files[ns+".yaml"] = policyYAML(ns, "deny", "", "", 0) + "---\n" + policyYAML(ns, "allow-api", "api", "web", 8080)
	}
	dir := writeFiles(t, files)
	backup := filepath.Join(t.TempDir(), "backup.json")
	r := np(t, s.Kubeconfig, "apply", "-f", dir, "--stage", "--wait", "1s",
		"--hubble", lis.Addr().String(), "--state", statePath, "--backup", backup)
	if r.code != cli.ExitFindings {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, cli.ExitFindings, r.stdout, r.stderr)
	}
	want := []string{
		"added " + first + "/allow-api",
		"added " + first + "/deny",
		"namespace " + first + ": applied 2 changes",
		"namespace " + first + ": watching dropped flows for 1s",
		"added " + second + "/allow-api",
		"added " + second + "/deny",
		"namespace " + second + ": applied 2 changes",
		"namespace " + second + ": watching dropped flows for 1s",
		"namespace " + second + ": rollback: delete " + second + "/allow-api",
		"namespace " + second + ": rollback: delete " + second + "/deny",
	}
	var got []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "added ") || strings.HasPrefix(line, "namespace ") {
			got = append(got, line)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stdout (-want +got):\n%s\nfull stdout:\n%s", diff, r.stdout)
	}
	for _, w := range []string{
		"netpol: namespace " + second + ": dropped, though the learned state saw them forwarded:",
		"Deployment:" + second + "/web -> Deployment:" + second + "/api TCP/8080: 1 dropped, 12 forwarded while learning",
		"namespace " + second + " was rolled back",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if after := policies(t, cs, second); after != before {
		t.Errorf("%s was not rolled back (-before +after):\n%s", second, cmp.Diff(before, after))
	}
	if p := policies(t, cs, first); !strings.Contains(p, "name: deny") || !strings.Contains(p, "name: allow-api") {
		t.Errorf("%s lost its new policies:\n%s", first, p)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if diff := cmp.Diff([]string{first, second}, srv.requests); diff != "" {
		t.Errorf("Hubble requests by namespace (-want +got):\n%s", diff)
	}
}

// TestStagedApplyWaits: without --hubble, --stage pauses between
// namespaces and applies them all.
func TestStagedApplyWaits(t *testing.T) {
	s := kubetest.Get(t)
	a, b := s.Namespace(t, "wait-a", nil), s.Namespace(t, "wait-b", nil)
	dir := writeFiles(t, map[string]string{
		"a.yaml": policyYAML(a, "deny", "", "", 0),
		"b.yaml": policyYAML(b, "deny", "", "", 0),
	})
	r := np(t, s.Kubeconfig, "apply", "-f", dir, "--stage", "--wait", "500ms", "--backup", filepath.Join(t.TempDir(), "b.json")).ok(t)
	if strings.Count(r.stdout, ": waiting 500ms\n") != 1 || !strings.HasSuffix(r.stdout, "applied 2 changes in 2 namespaces\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}
