package graph_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

var (
	nodePool = []graph.Node{
		deploy("shop/web"), deploy("shop/cart"), node(graph.KindStatefulSet, "shop/db"),
		pod("billing/debug"), node(graph.KindCronJob, "billing/report"),
		external("203.0.113.7"), external("2001:db8::7"), reserved(netpol.ReservedHost),
	}
	equateAddr = cmpopts.EquateComparable(netip.Addr{})
)

// randomGraph builds a graph of up to 12 edges from a small pool of nodes,
// ports and times, so that merges collide on edges, ports and sample ties.
func randomGraph(r *rand.Rand) *graph.Graph {
	g := graph.New()
	at := func() time.Time { return t0.Add(time.Duration(r.IntN(4)) * time.Second) }
	for range r.IntN(12) {
		e := graph.Edge{From: nodePool[r.IntN(len(nodePool))], To: nodePool[r.IntN(len(nodePool))]}
		for range 1 + r.IntN(3) {
			first := at()
			p := graph.PortStats{
				Protocol: netpol.Protocol(1 + r.IntN(2)), Port: uint16(80 + r.IntN(3)), Count: int64(1 + r.IntN(5)),
				FirstSeen: first, LastSeen: first.Add(time.Duration(r.IntN(3)) * time.Second),
				Sample: graph.Sample{Time: first, Node: []string{"n1", "n2"}[r.IntN(2)],
					Source: graph.SampleEndpoint{IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(3))}), Port: uint16(40000 + r.IntN(2))}},
			}
			if r.IntN(3) == 0 {
				e.Dropped = append(e.Dropped, p)
			} else {
				e.Forwarded = append(e.Forwarded, p)
			}
		}
		g.Add(e)
	}
	for range r.IntN(3) {
		first := at()
		g.Observe([]string{"shop", "billing", "quiet"}[r.IntN(3)], graph.Window{First: first, Last: first.Add(time.Hour)})
	}
	return g
}

type picture struct {
	Edges   []graph.Edge
	Windows map[string]graph.Window
}

func pictureOf(g *graph.Graph) picture { return picture{g.Edges(), g.Windows()} }

func TestMergeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		a, b, c := randomGraph(r), randomGraph(r), randomGraph(r)
		left := graph.Merge(graph.Merge(a, b), c)
		right := graph.Merge(a, graph.Merge(b, c))
		if diff := cmp.Diff(pictureOf(left), pictureOf(right), equateAddr); diff != "" {
			t.Fatalf("case %d: (a+b)+c != a+(b+c) (-left +right):\n%s", i, diff)
		}
		if diff := cmp.Diff(pictureOf(graph.Merge(a, b)), pictureOf(graph.Merge(b, a)), equateAddr); diff != "" {
			t.Fatalf("case %d: a+b != b+a (-a+b +b+a):\n%s", i, diff)
		}
		if diff := cmp.Diff(pictureOf(a), pictureOf(graph.Merge(a, graph.New())), equateAddr); diff != "" {
			t.Fatalf("case %d: a+0 != a:\n%s", i, diff)
		}
		if diff := cmp.Diff(pictureOf(a), pictureOf(a.Clone()), equateAddr); diff != "" {
			t.Fatalf("case %d: clone differs:\n%s", i, diff)
		}
	}
}

func TestMergeSemantics(t *testing.T) {
	web, cart := deploy("shop/web"), deploy("shop/cart")
	port := func(count int64, first, last int, node string) graph.PortStats {
		ft := t0.Add(time.Duration(first) * time.Second)
		return graph.PortStats{Protocol: netpol.ProtocolTCP, Port: 8080, Count: count, FirstSeen: ft,
			LastSeen: t0.Add(time.Duration(last) * time.Second), Sample: graph.Sample{Time: ft, Node: node}}
	}
	a, b := graph.New(), graph.New()
	a.Add(graph.Edge{From: web, To: cart, Forwarded: []graph.PortStats{port(2, 10, 20, "n2")}})
	b.Add(graph.Edge{From: web, To: cart, Forwarded: []graph.PortStats{port(3, 5, 15, "n1")},
		Dropped: []graph.PortStats{port(1, 7, 7, "n1")}})
	a.Observe("shop", graph.Window{First: t0.Add(10 * time.Second), Last: t0.Add(time.Hour)})
	b.Observe("shop", graph.Window{First: t0, Last: t0.Add(time.Minute)})
	got := graph.Merge(a, b)
	want := picture{
		Edges: []graph.Edge{{From: web, To: cart, Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 8080, Count: 5,
			FirstSeen: t0.Add(5 * time.Second), LastSeen: t0.Add(20 * time.Second), Sample: graph.Sample{Time: t0.Add(5 * time.Second), Node: "n1"}}},
			Dropped: []graph.PortStats{port(1, 7, 7, "n1")}}},
		Windows: map[string]graph.Window{"shop": {First: t0, Last: t0.Add(time.Hour)}},
	}
	if diff := cmp.Diff(want, pictureOf(got), equateAddr); diff != "" {
		t.Errorf("merge (-want +got):\n%s", diff)
	}
}
