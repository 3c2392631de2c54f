package render_test

import (
	"bytes"
	"io"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/internal/render"
)

// learnedGraph has two namespaces, a Deployment and a StatefulSet of the
// same name (their IDs collide), an external, a reserved identity, and
// forwarded and dropped evidence.
func learnedGraph() *graph.Graph {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	port := func(proto netpol.Protocol, p uint16, count int64) graph.PortStats {
		return graph.PortStats{Protocol: proto, Port: p, Count: count, FirstSeen: t0, LastSeen: t0.Add(time.Duration(count) * time.Minute)}
	}
	ports := func(ps ...graph.PortStats) []graph.PortStats { return ps }
	web := graph.WorkloadNode(graph.KindDeployment, "shop", "web")
	cart := graph.WorkloadNode(graph.KindDeployment, "shop", "cart")
	cartSts := graph.WorkloadNode(graph.KindStatefulSet, "shop", "cart")
	report := graph.WorkloadNode(graph.KindCronJob, "billing", "report")
	g := graph.New()
	for _, e := range []graph.Edge{
		{From: web, To: cart, Forwarded: ports(port(netpol.ProtocolTCP, 8080, 12), port(netpol.ProtocolUDP, 8125, 3)), Dropped: ports(port(netpol.ProtocolTCP, 9090, 1))},
		{From: cart, To: cartSts, Forwarded: ports(port(netpol.ProtocolTCP, 5432, 7))},
		{From: report, To: web, Dropped: ports(port(netpol.ProtocolTCP, 8080, 2))},
		{From: cart, To: graph.ExternalNode(netip.MustParseAddr("203.0.113.7")), Forwarded: ports(port(netpol.ProtocolTCP, 443, 2))},
		{From: graph.ReservedNode(netpol.ReservedHost), To: web, Forwarded: ports(port(netpol.ProtocolICMP, 0, 1))},
		{From: graph.WorkloadNode(graph.KindPod, "shop", `odd"name`), To: web, Forwarded: ports(port(netpol.ProtocolTCP, 8080, 1))},
	} {
		g.Add(e)
	}
	return g
}

func TestGraphRenderings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(io.Writer, *graph.Graph) error
	}{
		{"graph.json", render.GraphJSON},
		{"graph.dot", render.GraphDOT},
		{"graph.mermaid", render.GraphMermaid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b, learnedGraph()); err != nil {
				t.Fatal(err)
			}
			netpoltest.Golden(t, filepath.Join("testdata", tc.name+".golden"), b.Bytes())
		})
	}
}

func TestGraphJSONEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := render.GraphJSON(&b, graph.New()); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "{\n  \"nodes\": [],\n  \"edges\": []\n}\n"; got != want {
		t.Errorf("GraphJSON(empty) = %q, want %q", got, want)
	}
}
