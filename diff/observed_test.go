package diff_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/diff"
	"github.com/netpol/netpol/graph"
	nt "github.com/netpol/netpol/internal/netpoltest"
)

var seen = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// edge returns observed traffic from one node to another on a probe:
// forwarded connections, or dropped ones when count is negative.
func edge(from, to graph.Node, probe string, count int64) graph.Edge {
	p := nt.Probe(probe)
	ps := []graph.PortStats{{Protocol: p.Protocol, Port: p.Port, Count: max(count, -count), FirstSeen: seen, LastSeen: seen}}
	if count < 0 {
		return graph.Edge{From: from, To: to, Dropped: ps}
	}
	return graph.Edge{From: from, To: to, Forwarded: ps}
}

func observed(edges ...graph.Edge) *graph.Graph {
	g := graph.New()
	for _, e := range edges {
		g.Add(e)
	}
	return g
}

var (
	nodeA   = graph.WorkloadNode(graph.KindPod, "x", "a")
	nodeWeb = graph.WorkloadNode(graph.KindDeployment, "y", "web")
	nodeDB  = graph.WorkloadNode(graph.KindDeployment, "y", "db")
)

func TestObserved(t *testing.T) {
	g := observed(
		edge(nodeA, nodeWeb, "TCP/8080", 12),                                  // breaks: web is isolated
		edge(nodeA, nodeDB, "TCP/5432", -3),                                   // dropped: not a breakage
		edge(nodeA, nodeWeb, "TCP/9999", 1),                                   // an observed port becomes a probe
		edge(graph.ReservedNode(netpol.ReservedHost), nodeWeb, "TCP/8080", 4), // reserved: left out
		edge(nodeA, graph.ExternalNode(netip.MustParseAddr("203.0.113.7")), "TCP/443", 2),
		edge(nodeA, graph.WorkloadNode(graph.KindDeployment, "z", "gone"), "TCP/80", 1), // on neither side: left out
		// learned without the manifests: a pod of the Deployment by its name
		edge(nodeA, graph.WorkloadNode(graph.KindPod, "y", "web-5d8f9c7d5-x2x4z"), "TCP/8080", 3),
	)
	base := shop(denyIngress("y"), policy(allowWebFromX))
	head := shop(denyIngress("y"), policy(`
metadata: {name: allow-web, namespace: "y"}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: z}}}]
    ports: [{port: 9999}]`))
	r, err := diff.Compare(base, head, diff.Options{Observed: g})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"x/a -> y/web TCP/8080 allowed>denied"}, lines(r.Breakages)); d != "" {
		t.Errorf("breakages (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{}, lines(r.Openings)); d != "" {
		t.Errorf("openings (-want +got):\n%s", d)
	}
	b := r.Breakages[0]
	if want := (&diff.Evidence{Forwarded: 15, LastSeen: seen}); !cmp.Equal(want, b.Observed) {
		t.Errorf("breakage evidence = %+v, want %+v", b.Observed, want)
	}
	wantReasons := []string{"ingress denied: the destination is isolated by y/allow-web, y/deny-ingress, and no rule allows the connection"}
	if d := cmp.Diff(wantReasons, b.Reasons); d != "" {
		t.Errorf("reasons (-want +got):\n%s", d)
	}
	if !r.Observed || r.Unevaluated != 2 {
		t.Errorf("Observed, Unevaluated = %v, %d; want true, 2", r.Observed, r.Unevaluated)
	}
	if !containsProbe(r.Probes, "TCP/9999") {
		t.Errorf("probes %v lack the observed TCP/9999", r.Probes)
	}

	// Reversed, the lost connection is gained; the observed one is no
	// opening, the others are.
	r, err = diff.Compare(head, base, diff.Options{Observed: g})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"x/a -> y/web TCP/8080 denied>allowed"}, lines(r.Gained)); d != "" {
		t.Errorf("gained (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{}, lines(r.Openings)); d != "" {
		t.Errorf("openings (-want +got):\n%s", d)
	}
	want := []string{"ingress allowed by y/allow-web ingress[0]"}
	if d := cmp.Diff(want, r.Gained[0].Reasons); d != "" {
		t.Errorf("reasons (-want +got):\n%s", d)
	}
}

func TestOpenings(t *testing.T) {
	g := observed(edge(nodeA, nodeWeb, "TCP/8080", 5))
	r, err := diff.Compare(shop(denyIngress("y")), shop(), diff.Options{Observed: g, Namespace: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"x/a -> y/db TCP/80 denied>allowed", "x/a -> y/db TCP/5432 denied>allowed", "x/a -> y/db TCP/8080 denied>allowed",
		"x/a -> y/web TCP/80 denied>allowed", "x/a -> y/web TCP/5432 denied>allowed",
	}
	if d := cmp.Diff(want, lines(r.Openings)); d != "" {
		t.Errorf("openings (-want +got):\n%s", d)
	}
	if len(r.Gained) != len(want)+1 || len(r.Breakages) != 0 {
		t.Errorf("gained %d, breakages %d; want %d, 0", len(r.Gained), len(r.Breakages), len(want)+1)
	}
	if got := r.Gained[0].Reasons; !cmp.Equal(got, []string{"ingress allowed: no policy selects the destination for ingress"}) {
		t.Errorf("reasons = %q", got)
	}
}

func containsProbe(ps []netpol.Probe, s string) bool {
	for _, p := range ps {
		if p == nt.Probe(s) {
			return true
		}
	}
	return false
}
