package kube_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/netpol/netpol/internal/kube/kubetest"
	"github.com/netpol/netpol/internal/state"
)

// TestLearnReadsLiveCluster: without -f, learn resolves endpoints through
// the live cluster: a pod whose name follows no controller pattern, and a
// flow that names no workload, still count for the Deployment that owns the
// pod through its ReplicaSet.
func TestLearnReadsLiveCluster(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "learn", nil)
	deployment(t, cs, ns, "web", 1)
	deployment(t, cs, ns, "api", 1)
	rs, err := cs.AppsV1().ReplicaSets(ns).Get(ctx(t), "api-6b8f9c7d5", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	odd := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "odd", Namespace: ns, Labels: map[string]string{"app": "api"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "api", Image: "api"}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx(t), odd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f := &flowpb.Flow{
		Time:    timestamppb.Now(),
		Verdict: flowpb.Verdict_FORWARDED,
		IP:      &flowpb.IP{Source: "10.8.0.1", Destination: "10.8.0.2", IpVersion: flowpb.IPVersion_IPv4},
		L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{
			SourcePort: 40000, DestinationPort: 8080, Flags: &flowpb.TCPFlags{SYN: true}}}},
		Source:      &flowpb.Endpoint{Namespace: ns, PodName: "web-6b8f9c7d5-k2m9a", Identity: 1234},
		Destination: &flowpb.Endpoint{Namespace: ns, PodName: "odd", Identity: 5678},
		NodeName:    "n1",
		Type:        flowpb.FlowType_L3_L4,
	}
	line, err := protojson.Marshal(&observerpb.GetFlowsResponse{NodeName: "n1", Time: f.Time, ResponseTypes: &observerpb.GetFlowsResponse_Flow{Flow: f}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	flows, statePath := filepath.Join(dir, "flows.json"), filepath.Join(dir, "s.state")
	if err := os.WriteFile(flows, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	np(t, s.Kubeconfig, "learn", "--hubble-file", flows, "--state", statePath).ok(t)
	g, err := state.Load(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var edges []string
	for _, e := range g.Edges() {
		edges = append(edges, fmt.Sprintf("%s -> %s", e.From.Key(), e.To.Key()))
	}
	want := "Deployment:" + ns + "/web -> Deployment:" + ns + "/api"
	if !slices.Contains(edges, want) {
		t.Errorf("edges %q lack %q", edges, want)
	}
}
