package graph

import (
	"net/netip"
	"slices"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
	"gonum.org/v1/gonum/graph/traverse"
)

// Peers returns the nodes that opened forwarded connections to n (in) and
// those n opened forwarded connections to (out), each sorted. Dropped
// evidence does not make a peer.
func (g *Graph) Peers(n Node) (in, out []Node) {
	i, ok := g.index[n]
	if !ok {
		return nil, nil
	}
	for p := range g.forwardedPairs() {
		if p.to == i {
			in = append(in, g.nodes[p.from])
		}
		if p.from == i {
			out = append(out, g.nodes[p.to])
		}
	}
	slices.SortFunc(in, Node.Compare)
	slices.SortFunc(out, Node.Compare)
	return in, out
}

// forwardedPairs returns the edges that have forwarded evidence.
func (g *Graph) forwardedPairs() map[pair]bool {
	out := make(map[pair]bool, len(g.pairs))
	for k := range g.ports {
		if !k.dropped {
			out[pair{k.from, k.to}] = true
		}
	}
	return out
}

// EdgesOf returns the edges from or to n, sorted.
func (g *Graph) EdgesOf(n Node) []Edge {
	i, ok := g.index[n]
	if !ok {
		return nil
	}
	return g.edges(func(k portKey) bool { return k.from == i || k.to == i })
}

// Namespace returns the part of g that concerns namespace ns: the edges
// with at least one end in ns, the learning window of ns, and the DNS
// names of the external addresses of those edges.
func (g *Graph) Namespace(ns string) *Graph {
	out := New()
	externals := map[netip.Addr]bool{}
	for _, e := range g.edges(func(k portKey) bool {
		return g.nodes[k.from].Namespace == ns || g.nodes[k.to].Namespace == ns
	}) {
		out.Add(e)
		externals[e.From.Addr()], externals[e.To.Addr()] = true, true
	}
	if w, ok := g.windows[ns]; ok {
		out.windows[ns] = w
	}
	out.mergeNames(g, func(a netip.Addr) bool { return externals[a] })
	return out
}

// Namespaces returns the namespaces of the graph's nodes and learning
// windows, sorted.
func (g *Graph) Namespaces() []string {
	set := map[string]bool{}
	for _, n := range g.Nodes() {
		if n.Namespace != "" {
			set[n.Namespace] = true
		}
	}
	for ns := range g.windows {
		set[ns] = true
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}

// directed returns the forwarded edges of g as a gonum directed graph whose
// node IDs are g's node indexes.
func (g *Graph) directed() *simple.DirectedGraph {
	d := simple.NewDirectedGraph()
	for i := range g.nodes {
		d.AddNode(simple.Node(int64(i)))
	}
	for p := range g.forwardedPairs() {
		if p.from != p.to { // simple graphs have no self loops
			d.SetEdge(d.NewEdge(simple.Node(int64(p.from)), simple.Node(int64(p.to))))
		}
	}
	return d
}

// Reachable returns the nodes that from reaches through forwarded edges, at
// any depth, from excluded, sorted. It is empty for a node not in g.
func (g *Graph) Reachable(from Node) []Node {
	i, ok := g.index[from]
	if !ok {
		return nil
	}
	var out []Node
	bf := traverse.BreadthFirst{Visit: func(n gonum.Node) {
		if n.ID() != int64(i) {
			out = append(out, g.nodes[n.ID()])
		}
	}}
	bf.Walk(g.directed(), simple.Node(int64(i)), nil)
	slices.SortFunc(out, Node.Compare)
	return out
}

// PathExists reports whether a chain of forwarded edges leads from one node
// to the other. A node reaches itself only through a cycle or a self edge.
func (g *Graph) PathExists(from, to Node) bool {
	i, ok1 := g.index[from]
	j, ok2 := g.index[to]
	if !ok1 || !ok2 {
		return false
	}
	if i == j {
		if g.forwardedPairs()[pair{i, i}] {
			return true
		}
		for _, n := range g.Reachable(from) {
			_, out := g.Peers(n)
			if slices.Contains(out, from) {
				return true
			}
		}
		return false
	}
	return topo.PathExistsIn(g.directed(), simple.Node(int64(i)), simple.Node(int64(j)))
}
