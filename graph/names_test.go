package graph_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// names renders the DNS names of g: "address: name,name".
func names(g *graph.Graph) []string {
	var out []string
	for _, a := range g.NamedAddrs() {
		out = append(out, fmt.Sprintf("%s: %v", a, g.Names(a)))
	}
	return out
}

func dns(query string, answers ...string) func(*netpol.Flow) {
	return func(f *netpol.Flow) {
		f.DNS = &netpol.DNS{Query: query}
		for _, a := range answers {
			f.DNS.Answers = append(f.DNS.Answers, netip.MustParseAddr(a))
		}
	}
}

func TestBuilderNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flows []*netpol.Flow
		want  []string
	}{
		{"a DNS response names its answers", []*netpol.Flow{
			flow(0, "kube-system/coredns-0@10.0.0.53:53", web+"@10.0.0.1:41000", udp, reply, dns("API.Example.com.", "203.0.113.7", "2001:db8::7")),
		}, []string{"203.0.113.7: [api.example.com]", "2001:db8::7: [api.example.com]"}},
		{"destination names of a request", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "203.0.113.7:443", dns("api.example.com", "203.0.113.7")),
			flow(1, web+"@10.0.0.1:41001", "203.0.113.7:443", dns("cdn.example.com", "203.0.113.7")),
		}, []string{"203.0.113.7: [api.example.com cdn.example.com]"}},
		{"a query without answers names nothing", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "kube-system/coredns-0@10.0.0.53:53", udp, dns("api.example.com")),
		}, nil},
		{"a dropped flow names nothing", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "203.0.113.7:443", dropped, dns("api.example.com", "203.0.113.7")),
		}, nil},
		{"IPv4-mapped answers are unmapped", []*netpol.Flow{
			flow(0, web+"@10.0.0.1:41000", "203.0.113.7:443", dns("api.example.com", "::ffff:203.0.113.7")),
		}, []string{"203.0.113.7: [api.example.com]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{})
			for _, f := range tc.flows {
				b.Add(f)
			}
			if diff := cmp.Diff(tc.want, names(b.Graph())); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNamesBounded(t *testing.T) {
	g := graph.New()
	a := netip.MustParseAddr("203.0.113.7")
	for i := range graph.MaxNamesPerAddr + 5 {
		g.AddName(a, fmt.Sprintf("n%02d.example.com", i))
	}
	g.AddName(a, "")
	g.AddName(netip.Addr{}, "x.example.com")
	if got := len(g.Names(a)); got != graph.MaxNamesPerAddr {
		t.Errorf("%d names kept, want %d", got, graph.MaxNamesPerAddr)
	}
	if got := len(g.NamedAddrs()); got != 1 {
		t.Errorf("%d named addresses, want 1", got)
	}
}

func TestNamesMergeAndNamespace(t *testing.T) {
	api, other := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.1")
	a, b := graph.New(), graph.New()
	a.AddName(api, "api.example.com")
	b.AddName(api, "cdn.example.com")
	b.AddName(other, "other.example.com")
	b.Add(graph.Edge{From: deploy("shop/web"), To: graph.ExternalNode(api),
		Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 443, Count: 1, FirstSeen: t0, LastSeen: t0}}})
	m := graph.Merge(a, b)
	want := []string{"198.51.100.1: [other.example.com]", "203.0.113.7: [api.example.com cdn.example.com]"}
	if diff := cmp.Diff(want, names(m)); diff != "" {
		t.Errorf("merged names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(names(m), names(graph.Merge(b, a))); diff != "" {
		t.Errorf("merge is not commutative on names (-ab +ba):\n%s", diff)
	}
	if diff := cmp.Diff(names(m), names(m.Clone())); diff != "" {
		t.Errorf("clone lost names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], names(m.Namespace("shop"))); diff != "" {
		t.Errorf("namespace names (-want +got):\n%s", diff)
	}
}
