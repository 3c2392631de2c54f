package graph

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/netpol/netpol"
)

// Graph is the observed connectivity: nodes, and directed edges from a
// connection's initiator to its destination, each with per-port evidence.
// It also records, per namespace, the window during which traffic was
// observed. The zero Graph is not usable; call New. A Graph is not safe for
// concurrent use.
type Graph struct {
	index   map[Node]int32
	nodes   []Node
	ports   map[portKey]*PortStats
	pairs   map[pair]int32 // ports per (from, to)
	windows map[string]Window
	// names are the DNS names each address was an answer for.
	names     map[netip.Addr]map[string]struct{}
	nameCount int
}

// pair identifies an edge by its node indexes.
type pair struct{ from, to int32 }

// portKey identifies the evidence of one port of one edge.
type portKey struct {
	from, to int32
	proto    netpol.Protocol
	port     uint16
	dropped  bool
}

// Edge is the evidence between two nodes, from the initiator to the
// destination: Forwarded holds the ports of connections that went through
// (forwarded, redirected, audited or of unknown verdict), Dropped those of
// connections the dataplane dropped. Both are sorted by protocol and port.
type Edge struct {
	From, To  Node
	Forwarded []PortStats
	Dropped   []PortStats
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{index: map[Node]int32{}, ports: map[portKey]*PortStats{}, pairs: map[pair]int32{}, windows: map[string]Window{},
		names: map[netip.Addr]map[string]struct{}{}}
}

// node returns the index of n, adding it when new.
func (g *Graph) node(n Node) int32 {
	if i, ok := g.index[n]; ok {
		return i
	}
	i := int32(len(g.nodes))
	g.index[n] = i
	g.nodes = append(g.nodes, n)
	return i
}

// stats returns the evidence for k, adding an empty one when new.
func (g *Graph) stats(k portKey) *PortStats {
	p, ok := g.ports[k]
	if !ok {
		p = &PortStats{Protocol: k.proto, Port: k.port}
		g.ports[k] = p
		g.pairs[pair{k.from, k.to}]++
	}
	return p
}

// Add merges the evidence of e into g, as Merge does: counts add, first and
// last seen widen, the earliest sample wins. Ports with a zero Count are
// ignored, and so is an edge with a zero node. Times are kept in UTC.
func (g *Graph) Add(e Edge) {
	if e.From == (Node{}) || e.To == (Node{}) {
		return
	}
	from, to := g.node(e.From), g.node(e.To)
	add := func(ps []PortStats, dropped bool) {
		for i := range ps {
			p := normalize(ps[i])
			if p.Count == 0 {
				continue
			}
			g.stats(portKey{from, to, p.Protocol, p.Port, dropped}).merge(&p)
		}
	}
	add(e.Forwarded, false)
	add(e.Dropped, true)
}

func normalize(p PortStats) PortStats {
	p.FirstSeen, p.LastSeen, p.Sample.Time = utc(p.FirstSeen), utc(p.LastSeen), utc(p.Sample.Time)
	return p
}

// utc returns t in UTC without a monotonic reading; the zero time stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// Observe widens the learning window of namespace ns to include w.
func (g *Graph) Observe(ns string, w Window) {
	if ns == "" || w.IsZero() {
		return
	}
	w.First, w.Last = utc(w.First), utc(w.Last)
	g.windows[ns] = g.windows[ns].Widen(w)
}

// Windows returns the learning window of every observed namespace.
func (g *Graph) Windows() map[string]Window {
	return maps.Clone(g.windows)
}

// Window returns the learning window of namespace ns; zero when ns was
// never observed.
func (g *Graph) Window(ns string) Window {
	return g.windows[ns]
}

// Nodes returns every node that has evidence, sorted by Node.Compare.
func (g *Graph) Nodes() []Node {
	seen := make([]bool, len(g.nodes))
	for k := range g.ports {
		seen[k.from], seen[k.to] = true, true
	}
	var out []Node
	for i, n := range g.nodes {
		if seen[i] {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, Node.Compare)
	return out
}

// Edges returns every edge, sorted by source then destination node.
func (g *Graph) Edges() []Edge {
	return g.edges(func(portKey) bool { return true })
}

// edges groups the ports that keep selects into edges, sorted.
func (g *Graph) edges(keep func(portKey) bool) []Edge {
	byPair := map[pair]*Edge{}
	for k, p := range g.ports {
		if !keep(k) {
			continue
		}
		e := byPair[pair{k.from, k.to}]
		if e == nil {
			e = &Edge{From: g.nodes[k.from], To: g.nodes[k.to]}
			byPair[pair{k.from, k.to}] = e
		}
		if k.dropped {
			e.Dropped = append(e.Dropped, *p)
		} else {
			e.Forwarded = append(e.Forwarded, *p)
		}
	}
	out := make([]Edge, 0, len(byPair))
	for _, e := range byPair {
		slices.SortFunc(e.Forwarded, comparePort)
		slices.SortFunc(e.Dropped, comparePort)
		out = append(out, *e)
	}
	slices.SortFunc(out, compareEdge)
	return out
}

func compareEdge(a, b Edge) int {
	return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To))
}

// Len returns the number of edges and of ports (forwarded and dropped
// counted apart) in g.
func (g *Graph) Len() (edges, ports int) {
	return len(g.pairs), len(g.ports)
}

// Clone returns a deep copy of g.
func (g *Graph) Clone() *Graph {
	c := New()
	c.Merge(g)
	return c
}

// Merge adds every edge, learning window and DNS name of o to g. Merging
// is associative and commutative: counts add, first and last seen widen,
// the earliest sample wins (ties broken on the sample's other fields),
// learning windows widen and names add up (within MaxNamesPerAddr and
// MaxNames, where the result depends on the order of merges).
func (g *Graph) Merge(o *Graph) {
	for k, p := range o.ports {
		q := *p
		g.stats(portKey{g.node(o.nodes[k.from]), g.node(o.nodes[k.to]), k.proto, k.port, k.dropped}).merge(&q)
	}
	for ns, w := range o.windows {
		g.windows[ns] = g.windows[ns].Widen(w)
	}
	g.mergeNames(o, nil)
}

// Merge returns a new graph holding the evidence of all of gs.
func Merge(gs ...*Graph) *Graph {
	out := New()
	for _, g := range gs {
		out.Merge(g)
	}
	return out
}
