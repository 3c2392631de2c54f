package diff

import (
	"maps"
	"slices"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// inventory lists what side s holds: namespaces, top-level workloads and
// pods, in the namespace ns ("" for all).
type inventory struct {
	namespaces map[string]bool
	workloads  map[peerKey]*Peer
	pods       map[string]bool
}

func (c *comparison) inventory(s int) inventory {
	ns := c.opts.Namespace
	inv := inventory{namespaces: map[string]bool{}, workloads: map[peerKey]*Peer{}, pods: map[string]bool{}}
	for n := range c.sides[s].snap.NamespaceLabels() {
		if ns == "" || n == ns {
			inv.namespaces[n] = true
		}
	}
	for u, p := range c.u.peers {
		if c.u.sides[s][u].present() && !p.IsExternal() && p.Kind != graph.KindPod && c.scoped(int32(u)) {
			inv.workloads[peerKey{p.Kind, p.Namespace, p.Name}] = p
		}
	}
	for _, ep := range c.sides[s].eng.Endpoints() {
		if ep.Kind == netpol.EndpointPod && (ns == "" || ep.Namespace == ns) {
			inv.pods[ep.ID()] = true
		}
	}
	return inv
}

// minus returns what a holds and b does not, sorted.
func (a inventory) minus(b inventory) Inventory {
	out := Inventory{Namespaces: []string{}, Workloads: []Peer{}, Pods: []string{}}
	for _, n := range slices.Sorted(maps.Keys(a.namespaces)) {
		if !b.namespaces[n] {
			out.Namespaces = append(out.Namespaces, n)
		}
	}
	for k, p := range a.workloads {
		if b.workloads[k] == nil {
			out.Workloads = append(out.Workloads, *p)
		}
	}
	slices.SortFunc(out.Workloads, func(x, y Peer) int { return comparePeers(&x, &y) })
	for _, p := range slices.Sorted(maps.Keys(a.pods)) {
		if !b.pods[p] {
			out.Pods = append(out.Pods, p)
		}
	}
	return out
}
