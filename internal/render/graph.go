package render

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netpol/netpol/graph"
)

// graphView is a learned graph prepared for rendering: nodes with their
// display IDs, sorted, and edges between those IDs, sorted.
type graphView struct {
	nodes []viewNode
	edges []viewEdge
}

type viewNode struct {
	id string
	n  graph.Node
}

type viewEdge struct {
	from, to  string
	forwarded []graph.PortStats
	dropped   []graph.PortStats
}

// newGraphView names every node by Node.String ("shop/cart",
// "203.0.113.7", "reserved:host"); when two nodes of different kinds share
// that name, both are named "namespace/kind/name" instead (kind in lower
// case), as template endpoints are.
func newGraphView(g *graph.Graph) graphView {
	nodes := g.Nodes()
	count := map[string]int{}
	for _, n := range nodes {
		count[n.String()]++
	}
	ids := map[graph.Node]string{}
	var v graphView
	for _, n := range nodes {
		id := n.String()
		if count[id] > 1 && n.IsWorkload() {
			id = n.Namespace + "/" + strings.ToLower(string(n.Kind)) + "/" + n.Name
		}
		ids[n] = id
		v.nodes = append(v.nodes, viewNode{id, n})
	}
	slices.SortFunc(v.nodes, func(a, b viewNode) int { return cmp.Compare(a.id, b.id) })
	for _, e := range g.Edges() {
		v.edges = append(v.edges, viewEdge{ids[e.From], ids[e.To], e.Forwarded, e.Dropped})
	}
	slices.SortFunc(v.edges, func(a, b viewEdge) int { return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to)) })
	return v
}

type graphJSON struct {
	Nodes []nodeJSON `json:"nodes"`
	Edges []edgeJSON `json:"edges"`
}

type nodeJSON struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace,omitempty"`
	Workload  string `json:"workload,omitempty"`
	Kind      string `json:"kind"`
	Address   string `json:"address,omitempty"`
	Reserved  string `json:"reserved,omitempty"`
}

type edgeJSON struct {
	From    string     `json:"from"`
	To      string     `json:"to"`
	Ports   []portJSON `json:"ports"`
	Dropped []portJSON `json:"dropped,omitempty"`
}

type portJSON struct {
	Protocol  string    `json:"protocol"`
	Port      uint16    `json:"port"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// GraphJSON writes a learned graph as the stable JSON contract:
//
//	{"nodes":[{"id":"shop/cart","namespace":"shop","workload":"cart","kind":"Deployment"},
//	          {"id":"203.0.113.7","kind":"External","address":"203.0.113.7"},
//	          {"id":"reserved:host","kind":"Reserved","reserved":"host"}],
//	 "edges":[{"from":"shop/web","to":"shop/cart",
//	           "ports":[{"protocol":"TCP","port":8080,"count":12,"firstSeen":"...","lastSeen":"..."}],
//	           "dropped":[...]}]}
//
// Nodes are sorted by id, edges by from and to; "ports" holds the forwarded
// evidence (an empty list when there is none) and "dropped", present only
// when there is some, the dropped evidence, each sorted by protocol and
// port. Times are RFC 3339 in UTC.
func GraphJSON(w io.Writer, g *graph.Graph) error {
	v := newGraphView(g)
	out := graphJSON{Nodes: []nodeJSON{}, Edges: []edgeJSON{}}
	for _, n := range v.nodes {
		j := nodeJSON{ID: n.id, Kind: string(n.n.Kind)}
		switch n.n.Kind {
		case graph.KindExternal:
			j.Address = n.n.Name
		case graph.KindReserved:
			j.Reserved = n.n.Name
		default:
			j.Namespace, j.Workload = n.n.Namespace, n.n.Name
		}
		out.Nodes = append(out.Nodes, j)
	}
	for _, e := range v.edges {
		out.Edges = append(out.Edges, edgeJSON{From: e.from, To: e.to, Ports: portsJSON(e.forwarded), Dropped: portsJSON(e.dropped)})
	}
	return writeJSON(w, out)
}

func portsJSON(ps []graph.PortStats) []portJSON {
	out := []portJSON{}
	for _, p := range ps {
		out = append(out, portJSON{p.Protocol.String(), p.Port, p.Count, p.FirstSeen.UTC(), p.LastSeen.UTC()})
	}
	return out
}

// portsLabel renders evidence as "TCP/8080 (12), UDP/53 (3)".
func portsLabel(ps []graph.PortStats) string {
	var parts []string
	for _, p := range ps {
		s := p.Protocol.String()
		if p.Port != 0 {
			s += "/" + strconv.Itoa(int(p.Port))
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", s, p.Count))
	}
	return strings.Join(parts, ", ")
}

// byNamespace groups node indexes of v by namespace, "" (externals and
// reserved identities) first, namespaces sorted.
func (v graphView) byNamespace() (namespaces []string, members map[string][]int) {
	members = map[string][]int{}
	for i, n := range v.nodes {
		ns := n.n.Namespace
		if _, ok := members[ns]; !ok {
			namespaces = append(namespaces, ns)
		}
		members[ns] = append(members[ns], i)
	}
	slices.Sort(namespaces)
	return namespaces, members
}

// GraphDOT writes a learned graph in Graphviz DOT: one cluster per
// namespace, externals and reserved identities outside them, an edge per
// pair of nodes labelled with its forwarded ports and counts, and a dashed
// red edge for dropped evidence.
func GraphDOT(w io.Writer, g *graph.Graph) error {
	v := newGraphView(g)
	b := bufio.NewWriter(w)
	b.WriteString("digraph netpol {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	namespaces, members := v.byNamespace()
	for i, ns := range namespaces {
		indent := "  "
		if ns != "" {
			fmt.Fprintf(b, "  subgraph %s {\n    label=%s;\n", dotQuote("cluster_"+strconv.Itoa(i)+"_"+ns), dotQuote(ns))
			indent = "    "
		}
		for _, m := range members[ns] {
			n := v.nodes[m]
			shape := ""
			if !n.n.IsWorkload() {
				shape = ", shape=ellipse"
			}
			fmt.Fprintf(b, "%s%s [label=%s%s];\n", indent, dotQuote(n.id), dotQuote(n.n.Name+"\n"+string(n.n.Kind)), shape)
		}
		if ns != "" {
			b.WriteString("  }\n")
		}
	}
	for _, e := range v.edges {
		if len(e.forwarded) > 0 {
			fmt.Fprintf(b, "  %s -> %s [label=%s];\n", dotQuote(e.from), dotQuote(e.to), dotQuote(portsLabel(e.forwarded)))
		}
		if len(e.dropped) > 0 {
			fmt.Fprintf(b, "  %s -> %s [label=%s, style=dashed, color=red, fontcolor=red];\n",
				dotQuote(e.from), dotQuote(e.to), dotQuote("dropped: "+portsLabel(e.dropped)))
		}
	}
	b.WriteString("}\n")
	return b.Flush()
}

// dotQuote quotes s as a DOT string: backslash and double quote escaped,
// a newline as \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// GraphMermaid writes a learned graph as a Mermaid flowchart: one subgraph
// per namespace, externals and reserved identities outside them, an arrow
// per pair of nodes labelled with its forwarded ports and counts, and a
// dotted arrow for dropped evidence. Node IDs are n0, n1... in the order of
// the sorted display IDs.
func GraphMermaid(w io.Writer, g *graph.Graph) error {
	v := newGraphView(g)
	b := bufio.NewWriter(w)
	b.WriteString("flowchart LR\n")
	mid := map[string]string{}
	for i, n := range v.nodes {
		mid[n.id] = "n" + strconv.Itoa(i)
	}
	namespaces, members := v.byNamespace()
	for i, ns := range namespaces {
		indent := "  "
		if ns != "" {
			fmt.Fprintf(b, "  subgraph ns%d[%s]\n", i, mermaidQuote(ns))
			indent = "    "
		}
		for _, m := range members[ns] {
			n := v.nodes[m]
			open, close := "[", "]"
			if !n.n.IsWorkload() {
				open, close = "([", "])"
			}
			fmt.Fprintf(b, "%s%s%s%s%s\n", indent, mid[n.id], open, mermaidQuote(n.n.Name+"<br/>"+string(n.n.Kind)), close)
		}
		if ns != "" {
			b.WriteString("  end\n")
		}
	}
	for _, e := range v.edges {
		if len(e.forwarded) > 0 {
			fmt.Fprintf(b, "  %s -->|%s| %s\n", mid[e.from], mermaidQuote(portsLabel(e.forwarded)), mid[e.to])
		}
		if len(e.dropped) > 0 {
			fmt.Fprintf(b, "  %s -.->|%s| %s\n", mid[e.from], mermaidQuote("dropped: "+portsLabel(e.dropped)), mid[e.to])
		}
	}
	return b.Flush()
}

// mermaidQuote quotes s as a Mermaid label, with double quotes as #quot;.
func mermaidQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}
