package diff_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/diff"
	"github.com/netpol/netpol/graph"
	nt "github.com/netpol/netpol/internal/netpoltest"
)

// scale is the size of the target: 5,000 pods and 2,000 policies a
// side.
var scale = nt.Size{Namespaces: 50, Pods: 5000, Policies: 2000, Workloads: true, Cluster: true}

// sides returns the benchmark's base and head, built once: the head is the
// base with a pull request's worth of policy changes (see changePolicies).
var sides = sync.OnceValues(func() (*netpol.Snapshot, *netpol.Snapshot) {
	base := nt.Generate(1, scale)
	head := *base
	head.Policies = changePolicies(base.Policies)
	return base, &head
})

// changePolicies returns a copy of nps with one policy in 40 removed, one in
// 50 moved to another port, and one in 60 opened to every peer.
func changePolicies(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
	var out []networkingv1.NetworkPolicy
	for i, np := range nps {
		switch {
		case i%40 == 7:
			continue
		case i%50 == 3 && len(np.Spec.Ingress) > 0:
			np = *np.DeepCopy()
			port, tcp := intstr.FromInt32(8443), corev1.ProtocolTCP
			np.Spec.Ingress[0].Ports = []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}
		case i%60 == 5 && len(np.Spec.Ingress) > 0:
			np = *np.DeepCopy()
			np.Spec.Ingress[0].From = nil
		}
		out = append(out, np)
	}
	return out
}

// traffic is observed traffic on the base: 2,000 edges, one in four a
// connection the head loses, the others between pods picked in turn.
var traffic = sync.OnceValue(func() *graph.Graph {
	base, head := sides()
	r, err := diff.Compare(base, head, diff.Options{})
	if err != nil {
		panic(err)
	}
	g := graph.New()
	node := func(p *diff.Peer) graph.Node {
		if p.IsExternal() {
			return graph.ExternalNode(p.Range.Addr().Next())
		}
		return graph.WorkloadNode(p.Kind, p.Namespace, p.Name)
	}
	add := func(from, to graph.Node, p netpol.Probe) {
		g.Add(graph.Edge{From: from, To: to, Forwarded: []graph.PortStats{{Protocol: p.Protocol, Port: p.Port, Count: 1}}})
	}
	for i := range 500 {
		c := r.Lost[i*len(r.Lost)/500]
		add(node(c.From), node(c.To), c.Probe)
	}
	pods := base.Pods
	for i := range 1500 {
		a, b := pods[(i*7)%len(pods)], pods[(i*13+1)%len(pods)]
		p := netpol.Probe{Protocol: netpol.ProtocolTCP, Port: 8080}
		if ports := netpol.ContainerPorts(&b.Spec); len(ports) > 0 {
			p = netpol.Probe{Protocol: ports[0].Protocol, Port: ports[0].Port}
		}
		add(graph.WorkloadNode(graph.KindPod, a.Namespace, a.Name), graph.WorkloadNode(graph.KindPod, b.Namespace, b.Name), p)
	}
	return g
})

// BenchmarkCompare compares the two sides of 5,000 pods and 2,000
// policies, with 2,000 observed edges: compile both, matrices, difference,
// reasons, breakages and openings.
func BenchmarkCompare(b *testing.B) {
	base, head := sides()
	g := traffic()
	var r *diff.Report
	cpu := nt.CPUTime()
	for b.Loop() {
		var err error
		if r, err = diff.Compare(base, head, diff.Options{Observed: g}); err != nil {
			b.Fatal(err)
		}
	}
	cpu = nt.CPUTime() - cpu
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(r.Gained)), "gained")
	b.ReportMetric(float64(len(r.Lost)), "lost")
	b.ReportMetric(float64(len(r.Breakages)), "breakages")
}

// TestCompareScale runs the benchmark's comparison once and logs its size
// and time; it asserts nothing about time (the machine may be busy).
func TestCompareScale(t *testing.T) {
	if testing.Short() {
		t.Skip("large comparison")
	}
	base, head := sides()
	g := traffic()
	start, cpu := time.Now(), nt.CPUTime()
	r, err := diff.Compare(base, head, diff.Options{Observed: g})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pods, %d and %d policies: %d gained, %d lost, %d breakages, %d openings, %d probes in %v (%v CPU)",
		len(base.Pods), len(base.Policies), len(head.Policies), len(r.Gained), len(r.Lost), len(r.Breakages),
		len(r.Openings), len(r.Probes), time.Since(start).Round(time.Millisecond), (nt.CPUTime() - cpu).Round(time.Millisecond))
	if len(r.Gained) == 0 || len(r.Lost) == 0 || len(r.Breakages) == 0 {
		t.Errorf("the benchmark's change should gain, lose and break connections")
	}
}

// TestWriteScaleManifests writes the benchmark's sides as manifests,
// base.yaml and head.yaml, into the directory $NETPOL_DIFF_MANIFESTS, to
// time `netpol diff base.yaml head.yaml` end to end; it is skipped without
// the variable.
func TestWriteScaleManifests(t *testing.T) {
	dir := os.Getenv("NETPOL_DIFF_MANIFESTS")
	if dir == "" {
		t.Skip("NETPOL_DIFF_MANIFESTS is not set")
	}
	base, head := sides()
	for name, s := range map[string]*netpol.Snapshot{"base.yaml": base, "head.yaml": head} {
		var b bytes.Buffer
		doc := func(apiVersion, kind string, v any) {
			data, err := yaml.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "---\napiVersion: %s\nkind: %s\n%s", apiVersion, kind, data)
		}
		for _, n := range s.Namespaces {
			doc("v1", "Namespace", map[string]any{"metadata": n.ObjectMeta})
		}
		for _, n := range s.Nodes {
			doc("v1", "Node", map[string]any{"metadata": n.ObjectMeta, "spec": n.Spec, "status": n.Status})
		}
		for _, p := range s.Pods {
			doc("v1", "Pod", map[string]any{"metadata": p.ObjectMeta, "spec": p.Spec, "status": p.Status})
		}
		for _, w := range s.Workloads { // the generator's workloads are CronJobs
			doc("batch/v1", w.Kind, map[string]any{"metadata": w.ObjectMeta,
				"spec": map[string]any{"schedule": "@daily", "jobTemplate": map[string]any{"spec": map[string]any{"template": w.Template}}}})
		}
		for _, np := range s.Policies {
			doc("networking.k8s.io/v1", "NetworkPolicy", map[string]any{"metadata": np.ObjectMeta, "spec": np.Spec})
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkCompareOnePolicy compares the benchmark's base with itself minus
// one application's allow policy: the cost of a typical pull request at
// that scale, where the comparison, not the listing of changes, dominates.
func BenchmarkCompareOnePolicy(b *testing.B) {
	base, _ := sides()
	head := *base
	const drop = 1000
	head.Policies = append(slices.Clone(base.Policies[:drop]), base.Policies[drop+1:]...)
	var r *diff.Report
	cpu := nt.CPUTime()
	for b.Loop() {
		var err error
		if r, err = diff.Compare(base, &head, diff.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	cpu = nt.CPUTime() - cpu
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(r.Gained)), "gained")
	b.ReportMetric(float64(len(r.Lost)), "lost")
}
