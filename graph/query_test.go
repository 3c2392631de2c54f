package graph_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol/graph"
)

func TestQueries(t *testing.T) {
	// web -> cart -> db, cart -> 203.0.113.7, debug -x-> db (dropped only),
	// db -> web (a cycle), billing/report -> shop/cart.
	b := graph.NewBuilder(graph.NewResolver(nil), nil, graph.Options{})
	for i, f := range [][2]string{
		{web + "@10.0.0.1:41000", cart + "@10.0.0.9:8080"},
		{cart + "@10.0.0.9:41000", "shop/db-0{apps.kubernetes.io/pod-index=0}@10.0.0.2:5432"},
		{cart + "@10.0.0.9:41001", "@203.0.113.7:443"},
		{"shop/db-0{apps.kubernetes.io/pod-index=0}@10.0.0.2:41000", web + "@10.0.0.1:8080"},
		{"billing/report-28560000-zp4xq{job-name=report-28560000}@10.0.5.5:41000", cart + "@10.0.0.9:8080"},
	} {
		b.Add(flow(i, f[0], f[1]))
	}
	b.Add(flow(9, "shop/debug@10.0.0.5:41000", "shop/db-0{apps.kubernetes.io/pod-index=0}@10.0.0.2:5432", dropped))
	g := b.Graph()
	webN, cartN, dbN := deploy("shop/web"), deploy("shop/cart"), node(graph.KindStatefulSet, "shop/db")
	reportN, debugN, ext := node(graph.KindCronJob, "billing/report"), pod("shop/debug"), external("203.0.113.7")

	in, out := g.Peers(cartN)
	if diff := cmp.Diff([][]graph.Node{{reportN, webN}, {ext, dbN}}, [][]graph.Node{in, out}); diff != "" {
		t.Errorf("Peers(cart) (-want +got):\n%s", diff)
	}
	if in, _ := g.Peers(dbN); !cmp.Equal(in, []graph.Node{cartN}) {
		t.Errorf("Peers(db) in = %v, want only cart (dropped evidence is no peer)", in)
	}
	if diff := cmp.Diff([]graph.Node{ext, cartN, dbN, webN}, g.Reachable(reportN)); diff != "" {
		t.Errorf("Reachable(report) (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		from, to graph.Node
		want     bool
	}{{webN, dbN, true}, {dbN, cartN, true}, {webN, webN, true}, {debugN, dbN, false}, {cartN, reportN, false}, {reportN, reportN, false}} {
		if got := g.PathExists(tc.from, tc.to); got != tc.want {
			t.Errorf("PathExists(%v, %v) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	billing := g.Namespace("billing")
	if diff := cmp.Diff([]graph.Node{reportN, cartN}, billing.Nodes()); diff != "" {
		t.Errorf("Namespace(billing).Nodes() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"billing", "shop"}, g.Namespaces()); diff != "" {
		t.Errorf("Namespaces() (-want +got):\n%s", diff)
	}
	if edges, ports := g.Len(); edges != 6 || ports != 6 {
		t.Errorf("Len() = %d, %d, want 6, 6", edges, ports)
	}
	if got := len(g.EdgesOf(dbN)); got != 3 {
		t.Errorf("len(EdgesOf(db)) = %d, want 3", got)
	}
}
