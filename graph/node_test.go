package graph_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

func TestNodeKeyRoundTrip(t *testing.T) {
	for _, n := range []graph.Node{
		graph.WorkloadNode(graph.KindDeployment, "shop", "cart"),
		graph.WorkloadNode(graph.KindPod, "shop", "debug"),
		graph.WorkloadNode("Rollout", "shop", "web"),
		graph.ExternalNode(netip.MustParseAddr("203.0.113.7")),
		graph.ExternalNode(netip.MustParseAddr("2001:db8::1")),
		graph.ExternalNode(netip.MustParseAddr("::ffff:192.0.2.1")),
		graph.ReservedNode(netpol.ReservedHost),
	} {
		got, err := graph.ParseNode(n.Key())
		if err != nil {
			t.Fatalf("ParseNode(%q): %v", n.Key(), err)
		}
		if diff := cmp.Diff(n, got); diff != "" {
			t.Errorf("ParseNode(%q) (-want +got):\n%s", n.Key(), diff)
		}
	}
}

func TestNodeStrings(t *testing.T) {
	for _, tc := range []struct {
		n        graph.Node
		str, key string
		workload bool
	}{
		{graph.WorkloadNode(graph.KindDeployment, "shop", "cart"), "shop/cart", "Deployment:shop/cart", true},
		{graph.ExternalNode(netip.MustParseAddr("::ffff:192.0.2.1")), "192.0.2.1", "External:192.0.2.1", false},
		{graph.ReservedNode(netpol.ReservedWorld), "reserved:world", "Reserved:world", false},
	} {
		if got := tc.n.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
		if got := tc.n.Key(); got != tc.key {
			t.Errorf("Key() = %q, want %q", got, tc.key)
		}
		if got := tc.n.IsWorkload(); got != tc.workload {
			t.Errorf("%v IsWorkload() = %v", tc.n, got)
		}
	}
}

func TestParseNodeErrors(t *testing.T) {
	for _, key := range []string{"", "shop/cart", "Deployment:", "Deployment:shop", "Deployment:/cart",
		"Deployment:shop/a/b", "External:nope", "External:::ffff:192.0.2.1", ":shop/cart"} {
		if n, err := graph.ParseNode(key); err == nil {
			t.Errorf("ParseNode(%q) = %v, want an error", key, n)
		}
	}
}
