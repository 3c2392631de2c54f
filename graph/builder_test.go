package graph_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// summary renders a graph's edges one port per line:
// "from -> to TCP/8080 x2 +0ms..+5ms" ("dropped" after the port for dropped
// evidence), times relative to t0.
func summary(g *graph.Graph) []string {
	var out []string
	rel := func(t time.Time) string { return fmt.Sprintf("+%dms", t.Sub(t0).Milliseconds()) }
	line := func(e graph.Edge, p graph.PortStats, what string) {
		out = append(out, fmt.Sprintf("%s -> %s %s/%d%s x%d %s..%s",
			e.From.Key(), e.To.Key(), p.Protocol, p.Port, what, p.Count, rel(p.FirstSeen), rel(p.LastSeen)))
	}
	for _, e := range g.Edges() {
		for _, p := range e.Forwarded {
			line(e, p, "")
		}
		for _, p := range e.Dropped {
			line(e, p, " dropped")
		}
	}
	return out
}

const (
	web  = "shop/web-5d7f8c9b6-x2x4z"
	cart = "shop/cart-6b8f9c7d5-k2m9p"
)

func TestBuilderCounting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flows []*netpol.Flow
		want  []string
	}{
		{"one connection", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+0ms"}},
		{"replies ignored", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
			flow(1, cart+"@10.0.0.9:8080", web+"@10.0.0.1:41000", reply),
			flow(2, cart+"@10.0.0.9:8080", web+"@10.0.0.1:41001", replyUnknown),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+0ms"}},
		{"unknown direction from a client port counts", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", replyUnknown),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+0ms"}},
		{"observed at both ends counts once", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n1")),
			flow(3, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n2")),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+3ms"}},
		{"the other end first, out of order", []*netpol.Flow{
			flow(3, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n2")),
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n1")),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+3ms"}},
		{"packets of one connection renew it", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
			flow(1500, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
			flow(3000, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+3000ms"}},
		{"a connection silent longer than the window counts again", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
			flow(2500, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x2 +0ms..+2500ms"}},
		{"source ports dropped", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080"),
			flow(1, web+"@10.0.0.1:41001", cart+"@10.0.0.9:8080"),
			flow(2, web+"@10.0.0.1:41002", cart+"@10.0.0.9:8080", udp),
		}, []string{
			"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x2 +0ms..+1ms",
			"Deployment:shop/web -> Deployment:shop/cart UDP/8080 x1 +2ms..+2ms",
		}},
		{"dropped apart from forwarded", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n1")),
			flow(1, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n2"), dropped),
			flow(2, web+"@10.0.0.1:41000", cart+"@10.0.0.9:9090", dropped),
		}, []string{
			"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x1 +0ms..+0ms",
			"Deployment:shop/web -> Deployment:shop/cart TCP/8080 dropped x1 +1ms..+1ms",
			"Deployment:shop/web -> Deployment:shop/cart TCP/9090 dropped x1 +2ms..+2ms",
		}},
		{"pending endpoint resolves from a later flow", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "shop/#4242{app=cart}@10.0.0.9:8080"),
			flow(10, web+"@10.0.0.1:41001", "shop/#4242{app=cart}@10.0.0.8:8080"),
			flow(20, web+"@10.0.0.1:41002", cart+"#4242@10.0.0.9:8080"),
		}, []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x3 +0ms..+20ms"}},
		{"flows without a transport protocol are left out", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:0", cart+"@10.0.0.9:0", noL4),
		}, nil},
		{"pending endpoint that never resolves", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "shop/{app=cart}@10.0.0.9:8080"),
		}, nil},
		{"externals and reserved", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "reserved:world@203.0.113.7:443"),
			flow(1, "reserved:host@10.0.2.1:52000", web+"@10.0.0.1:8080"),
			flow(2, web+"@10.0.0.1:41000", "@10.0.3.3:53", udp),
		}, []string{
			"Reserved:host -> Deployment:shop/web TCP/8080 x1 +1ms..+1ms",
			"Deployment:shop/web -> External:10.0.3.3 UDP/53 x1 +2ms..+2ms",
			"Deployment:shop/web -> External:203.0.113.7 TCP/443 x1 +0ms..+0ms",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{})
			for _, f := range tc.flows {
				b.Add(f)
			}
			if diff := cmp.Diff(tc.want, summary(b.Graph())); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuilderService(t *testing.T) {
	b := graph.NewBuilder(graph.NewResolver(testSnapshot()), nil, graph.Options{})
	b.Add(flow(0, "shop/debug@10.0.0.5:41000", "@10.96.0.10:80"))
	b.Add(flow(1, "shop/debug@10.0.0.5:41000", "@10.96.0.10:80"))
	b.Add(flow(2, "shop/debug@10.0.0.5:41001", "reserved:world@10.96.0.20:9080"))
	want := []string{
		"Pod:shop/debug -> Deployment:shop/cart TCP/8080 x1 +0ms..+1ms",
		"Pod:shop/debug -> StatefulSet:shop/db TCP/9080 x1 +2ms..+2ms",
		"Pod:shop/debug -> Deployment:shop/reviews-v1 TCP/9080 x1 +2ms..+2ms",
		"Pod:shop/debug -> Deployment:shop/reviews-v2 TCP/9080 x1 +2ms..+2ms",
	}
	if diff := cmp.Diff(want, summary(b.Graph())); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
}

func TestBuilderStatsWindowsSample(t *testing.T) {
	b := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{})
	b.Observe("quiet")
	for _, f := range []*netpol.Flow{
		flow(5, web+"@10.0.0.1:41001", cart+"@10.0.0.9:8080", observer("n2")),
		flow(0, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n1")),
		flow(1, web+"@10.0.0.1:41000", cart+"@10.0.0.9:8080", observer("n2")),
		flow(2, cart+"@10.0.0.9:8080", web+"@10.0.0.1:41000", reply),
		flow(3, "", cart+"@10.0.0.9:8080"),
		flow(4, web+"@10.0.0.1:41005", "shop/{app=x}@10.0.0.7:80"),
	} {
		b.Add(f)
	}
	g := b.Graph()
	wantStats := graph.Stats{Flows: 6, Counted: 3, Duplicates: 1, Replies: 1, Unresolved: 1, Pending: 1}
	if diff := cmp.Diff(wantStats, b.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	w := graph.Window{First: t0, Last: t0.Add(5 * time.Millisecond)}
	if diff := cmp.Diff(map[string]graph.Window{"shop": w, "quiet": w}, g.Windows()); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
	wantSample := graph.Sample{
		Time:        t0,
		Source:      graph.SampleEndpoint{IP: ep("@10.0.0.1:0").IP, Port: 41000, Namespace: "shop", Pod: "web-5d7f8c9b6-x2x4z"},
		Destination: graph.SampleEndpoint{IP: ep("@10.0.0.9:0").IP, Port: 8080, Namespace: "shop", Pod: "cart-6b8f9c7d5-k2m9p"},
		Verdict:     netpol.Forwarded,
		Node:        "n1",
	}
	if diff := cmp.Diff(wantSample, g.Edges()[0].Forwarded[0].Sample, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("sample (-want +got):\n%s", diff)
	}
}

func TestBuilderDedupBounded(t *testing.T) {
	// The smallest table is one bucket of four connections: a fifth evicts
	// the oldest, which then counts again (evicting the next oldest).
	b := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{DedupLimit: 2})
	for i, port := range []int{41000, 41001, 41002, 41003, 41004, 41000} {
		b.Add(flow(i, fmt.Sprintf("%s@10.0.0.1:%d", web, port), cart+"@10.0.0.9:8080"))
	}
	want := []string{"Deployment:shop/web -> Deployment:shop/cart TCP/8080 x6 +0ms..+5ms"}
	if diff := cmp.Diff(want, summary(b.Graph())); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	if got := b.Stats().Evicted; got != 2 {
		t.Errorf("Evicted = %d, want 2", got)
	}
}
