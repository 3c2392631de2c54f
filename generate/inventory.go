package generate

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// workload is a graph node as the snapshot knows it: its endpoints (pods,
// or the template of a workload without pods) and the labels they share.
type workload struct {
	node      graph.Node
	endpoints []int // indexes into inventory.endpoints
	// labels are the labels every endpoint carries and, when the snapshot
	// holds the workload object, its pod template too (future pods).
	labels map[string]string
	// hostNetwork is set when every endpoint uses the node's network:
	// policies cannot select it, and it acts as its node.
	hostNetwork bool
	// nodes are the names of the nodes its pods run on, sorted.
	nodes []string
}

// inventory indexes the snapshot by graph node.
type inventory struct {
	snap      *netpol.Snapshot
	endpoints []netpol.Endpoint // s.Endpoints()
	nodeOf    []graph.Node      // per endpoint: its workload node
	workloads map[graph.Node]*workload
	// byNamespace lists the workloads of each namespace, sorted by node.
	byNamespace map[string][]*workload
	// nodeAddrs are the addresses of each snapshot node; allNodeAddrs
	// those of every node, sorted.
	nodeAddrs    map[string][]netip.Addr
	allNodeAddrs []netip.Addr
	// apiServer are the addresses of the default/kubernetes Service's
	// endpoints.
	apiServer []netip.Addr
	selectors map[graph.Node]selectorChoice
	resolver  *graph.Resolver
}

func newInventory(s *netpol.Snapshot) *inventory {
	inv := &inventory{snap: s, workloads: map[graph.Node]*workload{}, byNamespace: map[string][]*workload{},
		nodeAddrs: map[string][]netip.Addr{}, selectors: map[graph.Node]selectorChoice{}}
	inv.endpoints = s.Endpoints()
	r := graph.NewResolver(s)
	inv.resolver = r
	inv.nodeOf = make([]graph.Node, len(inv.endpoints))
	for i, ep := range inv.endpoints {
		var n graph.Node
		if ep.Kind == netpol.EndpointTemplate {
			n = graph.WorkloadNode(graph.Kind(ep.WorkloadKind), ep.Namespace, ep.Name)
		} else {
			n = r.Pod(ep.Namespace, ep.Name, ep.Labels, netpol.WorkloadRef{}, time.Time{})
		}
		inv.nodeOf[i] = n
		w := inv.workloads[n]
		if w == nil {
			w = &workload{node: n, hostNetwork: true}
			inv.workloads[n] = w
			inv.byNamespace[n.Namespace] = append(inv.byNamespace[n.Namespace], w)
		}
		w.endpoints = append(w.endpoints, i)
		w.hostNetwork = w.hostNetwork && ep.HostNetwork
		if ep.NodeName != "" && !slices.Contains(w.nodes, ep.NodeName) {
			w.nodes = append(w.nodes, ep.NodeName)
		}
	}
	templates := map[graph.Node]map[string]string{}
	for i := range s.Workloads {
		wo := &s.Workloads[i]
		templates[graph.WorkloadNode(graph.Kind(wo.Kind), wo.Namespace, wo.Name)] = wo.Template.Labels
	}
	for _, w := range inv.workloads {
		slices.Sort(w.nodes)
		w.labels = inv.commonLabels(w, templates[w.node])
	}
	for ns := range inv.byNamespace {
		slices.SortFunc(inv.byNamespace[ns], func(a, b *workload) int { return a.node.Compare(b.node) })
	}
	inv.indexNodes()
	inv.apiServer = apiServerAddrs(s)
	return inv
}

// commonLabels returns the labels that all of w's endpoints carry, and the
// template too when known.
func (inv *inventory) commonLabels(w *workload, template map[string]string) map[string]string {
	var out map[string]string
	for _, i := range w.endpoints {
		l := inv.endpoints[i].Labels
		if out == nil {
			out = maps.Clone(l)
			if out == nil {
				out = map[string]string{}
			}
			continue
		}
		for k, v := range out {
			if l[k] != v {
				delete(out, k)
			}
		}
	}
	if template != nil {
		for k, v := range out {
			if template[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

func (inv *inventory) indexNodes() {
	for i := range inv.snap.Nodes {
		n := &inv.snap.Nodes[i]
		if ips := netpol.NodeIPs(n); len(ips) > 0 {
			inv.nodeAddrs[n.Name] = append(inv.nodeAddrs[n.Name], ips...)
		}
	}
	var all []netip.Addr
	for _, as := range inv.nodeAddrs {
		all = append(all, as...)
	}
	slices.SortFunc(all, netip.Addr.Compare)
	inv.allNodeAddrs = slices.Compact(all)
}

// apiServerAddrs returns the endpoint addresses of the default/kubernetes
// Service, as its EndpointSlices list them.
func apiServerAddrs(s *netpol.Snapshot) []netip.Addr {
	var out []netip.Addr
	for _, es := range s.EndpointSlices {
		if es.Namespace != "default" || es.Labels["kubernetes.io/service-name"] != "kubernetes" {
			continue
		}
		for _, ep := range es.Endpoints {
			for _, a := range ep.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil {
					out = append(out, ip.Unmap())
				}
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// namespaces returns the namespaces that have workloads, sorted.
func (inv *inventory) namespaces() []string {
	return slices.Sorted(maps.Keys(inv.byNamespace))
}

// ports returns the container ports of w's endpoints, one list per
// endpoint.
func (inv *inventory) ports(w *workload) [][]netpol.Port {
	out := make([][]netpol.Port, len(w.endpoints))
	for i, e := range w.endpoints {
		out[i] = inv.endpoints[e].Ports
	}
	return out
}

// display names a node for people: "namespace/name" for a workload, the
// address of an external, the identity of a reserved one.
func display(n graph.Node) string {
	if n.Kind == graph.KindReserved {
		return strings.TrimPrefix(n.String(), "reserved:")
	}
	return n.String()
}

// selector returns the podSelector chosen for w, computed once.
func (inv *inventory) selector(w *workload) selectorChoice {
	if c, ok := inv.selectors[w.node]; ok {
		return c
	}
	c := inv.chooseSelector(w)
	inv.selectors[w.node] = c
	return c
}

// edges returns the edges of g with those to a Service's ClusterIP, which a
// learning without the Service recorded as an external address, moved to
// the Service's backends on the ports they listen on: policies see the
// connection after the translation.
func (inv *inventory) edges(g *graph.Graph) []graph.Edge {
	edges := g.Edges()
	moved := false
	for _, e := range edges {
		if a := e.To.Addr(); a.IsValid() {
			if _, ok := inv.resolver.Service(a, netpol.ProtocolTCP, 0, time.Time{}); ok {
				moved = true
				break
			}
		}
	}
	if !moved {
		return edges
	}
	out := graph.New()
	for _, e := range edges {
		a := e.To.Addr()
		if !a.IsValid() {
			out.Add(e)
			continue
		}
		kept := graph.Edge{From: e.From, To: e.To, Dropped: e.Dropped}
		for _, p := range e.Forwarded {
			targets, ok := inv.resolver.Service(a, p.Protocol, p.Port, time.Time{})
			if !ok || len(targets) == 0 {
				kept.Forwarded = append(kept.Forwarded, p)
				continue
			}
			for _, t := range targets {
				q := p
				q.Port = t.Port
				out.Add(graph.Edge{From: e.From, To: t.Node, Forwarded: []graph.PortStats{q}})
			}
		}
		out.Add(kept)
	}
	return out.Edges()
}
