package diff

import (
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/simulate"
)

// side is one compiled side: its engine and the matrix of all its
// endpoints (matrix index = EndpointID) over the probes.
type side struct {
	snap *netpol.Snapshot
	eng  *simulate.Engine
	m    *simulate.Matrix
	// resolver resolves the pods of snap to their workloads; addSide
	// makes it.
	resolver *graph.Resolver
}

// sideUnit is what a peer has on one side: its endpoints, grouped by class.
type sideUnit struct {
	eps    []int32
	groups []group
	// exact: some endpoint stands for a node (a hostNetwork pod), whose
	// verdicts with the pods of its node are per endpoint, so pairs with
	// this peer are evaluated endpoint by endpoint.
	exact bool
}

// group is the endpoints of a peer in one class: the first two of them.
type group struct {
	class int32
	a, b  int32 // b is -1 when the class holds one endpoint of the peer
}

func (u *sideUnit) present() bool { return len(u.eps) > 0 }

// peerKey identifies a peer across the sides.
type peerKey struct {
	kind      graph.Kind
	namespace string
	name      string
}

// units is the registry of the peers of both sides.
type units struct {
	peers []*Peer
	index map[peerKey]int32
	sides [2][]sideUnit
}

// unit returns the index of the peer, adding it when new.
func (us *units) unit(p Peer) int32 {
	k := peerKey{p.Kind, p.Namespace, p.Name}
	if i, ok := us.index[k]; ok {
		return i
	}
	i := int32(len(us.peers))
	us.index[k] = i
	us.peers = append(us.peers, &p)
	us.sides[0] = append(us.sides[0], sideUnit{})
	us.sides[1] = append(us.sides[1], sideUnit{})
	return i
}

// both reports whether unit u has endpoints on both sides.
func (us *units) both(u int32) bool {
	return us.sides[0][u].present() && us.sides[1][u].present()
}

// addSide maps every endpoint of side s (0 base, 1 head) to its peer:
// pods through graph's resolution of their owners (a pod without owners to
// the one top-level workload whose selector matches it, as
// netpol.Snapshot.Endpoints counts it), templates to their workload,
// externals to the region they represent.
func (us *units) addSide(s int, sd *side, regionPeer map[netip.Addr]int32) {
	sd.resolver = graph.NewResolver(sd.snap)
	r := sd.resolver
	sel := newSelectors(sd.snap)
	for i, ep := range sd.eng.Endpoints() {
		var u int32
		switch ep.Kind {
		case netpol.EndpointExternal:
			var ok bool
			if u, ok = regionPeer[ep.IP()]; !ok {
				continue
			}
		case netpol.EndpointTemplate:
			u = us.unit(Peer{Kind: graph.Kind(ep.WorkloadKind), Namespace: ep.Namespace, Name: ep.Name})
		default:
			n := r.Pod(ep.Namespace, ep.Name, ep.Labels, netpol.WorkloadRef{}, time.Time{})
			if n.Kind == graph.KindPod {
				n = sel.owner(n, ep.Labels)
			}
			u = us.unit(Peer{Kind: n.Kind, Namespace: n.Namespace, Name: n.Name})
		}
		su := &us.sides[s][u]
		su.eps = append(su.eps, int32(i))
		su.exact = su.exact || ep.HostNetwork
		su.addToGroup(int32(sd.m.Class(i)), int32(i))
	}
}

func (u *sideUnit) addToGroup(class, ep int32) {
	for gi := range u.groups {
		if g := &u.groups[gi]; g.class == class {
			if g.b < 0 {
				g.b = ep
			}
			return
		}
	}
	u.groups = append(u.groups, group{class: class, a: ep, b: -1})
}

// state returns the connectivity from peer u to peer v (their units on
// this side) on probe k. same says that u and v are one peer, whose
// endpoints are not paired with themselves.
func (sd *side) state(u, v *sideUnit, same bool, k int) State {
	if !same && !u.exact && !v.exact && len(u.groups) == 1 && len(v.groups) == 1 {
		if sd.m.Allowed(int(u.groups[0].a), int(v.groups[0].a), k) {
			return Allowed
		}
		return Denied
	}
	var allowed, denied bool
	visit := func(a, b int32) bool {
		if sd.m.Allowed(int(a), int(b), k) {
			allowed = true
		} else {
			denied = true
		}
		return allowed && denied
	}
	sd.pairs(u, v, same, visit)
	switch {
	case allowed && denied:
		return Partial
	case allowed:
		return Allowed
	case denied:
		return Denied
	}
	return NoPairs
}

// pairs calls visit on pairs of distinct endpoints of u and v that stand
// for all of them: one per pair of classes, or, for exact units, every
// pair. It stops when visit returns true.
func (sd *side) pairs(u, v *sideUnit, same bool, visit func(a, b int32) bool) {
	if u.exact || v.exact {
		for _, a := range u.eps {
			for _, b := range v.eps {
				if a != b && visit(a, b) {
					return
				}
			}
		}
		return
	}
	for _, ga := range u.groups {
		for _, gb := range v.groups {
			a, b := ga.a, gb.a
			if same && ga.class == gb.class {
				if ga.b < 0 {
					continue
				}
				b = ga.b
			}
			if visit(a, b) {
				return
			}
		}
	}
}

// find returns a pair of endpoints of u and v whose verdict on probe k is
// allowed (want true) or denied.
func (sd *side) find(u, v *sideUnit, same bool, k int, want bool) (a, b int32, ok bool) {
	sd.pairs(u, v, same, func(x, y int32) bool {
		if sd.m.Allowed(int(x), int(y), k) == want {
			a, b, ok = x, y, true
		}
		return ok
	})
	return a, b, ok
}

// selectors are the top-level workloads of a snapshot (those without
// owners), with their selectors, by namespace.
type selectors map[string][]selectorOf

type selectorOf struct {
	sel  labels.Selector
	node graph.Node
}

// newSelectors indexes the workloads of s without owner references whose
// pod selector (netpol.Workload.PodSelector) is usable.
func newSelectors(s *netpol.Snapshot) selectors {
	out := selectors{}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if len(w.OwnerReferences) > 0 {
			continue
		}
		sel, ok := w.PodSelector()
		if !ok {
			continue
		}
		out[w.Namespace] = append(out[w.Namespace], selectorOf{sel, graph.WorkloadNode(graph.Kind(w.Kind), w.Namespace, w.Name)})
	}
	return out
}

// owner returns the workload whose selector matches the bare pod n, when
// exactly one does; else n.
func (s selectors) owner(n graph.Node, podLabels map[string]string) graph.Node {
	found := graph.Node{}
	for _, w := range s[n.Namespace] {
		if w.sel.Matches(labels.Set(podLabels)) {
			if found != (graph.Node{}) {
				return n
			}
			found = w.node
		}
	}
	if found == (graph.Node{}) {
		return n
	}
	return found
}
