package diff

import (
	"cmp"
	"net/netip"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// State is the connectivity from one peer to another on one probe, over
// every pair of their endpoints (a pod and itself excluded). The zero value
// is NoPairs: the peers have no pair of distinct endpoints, as a workload of
// one pod has with itself.
type State uint8

// The states, from least to most allowed.
const (
	NoPairs State = iota
	// Denied: no pair of endpoints may connect.
	Denied
	// Partial: some pairs may connect and some may not.
	Partial
	// Allowed: every pair of endpoints may connect.
	Allowed
)

// String returns "denied", "partial", "allowed" or "none".
func (s State) String() string {
	switch s {
	case Denied:
		return "denied"
	case Partial:
		return "partial"
	case Allowed:
		return "allowed"
	}
	return "none"
}

// Peer is one end of a change: a top-level workload, a bare pod, or a range
// of addresses outside the cluster's pods.
type Peer struct {
	// Kind is the workload kind ("Deployment", "StatefulSet", ...),
	// graph.KindPod for a bare pod, or graph.KindExternal.
	Kind graph.Kind
	// Namespace is empty for an external range.
	Namespace string
	// Name is the workload's name, or for an external range its
	// description: "203.0.113.0/24", or "0.0.0.0/0 except 10.0.0.0/8,
	// 172.16.0.0/12" when narrower ranges of the policies are carved out
	// of it.
	Name string
	// Range is the range of an external; the zero Prefix otherwise.
	Range netip.Prefix
}

// IsExternal reports whether p is a range of addresses outside the
// cluster's pods.
func (p *Peer) IsExternal() bool { return p.Kind == graph.KindExternal }

// String returns "namespace/name" for a workload or pod, and the
// description of an external range.
func (p *Peer) String() string {
	if p.IsExternal() {
		return p.Name
	}
	return p.Namespace + "/" + p.Name
}

// comparePeers orders externals first (by range), then workloads by
// namespace, name and kind.
func comparePeers(a, b *Peer) int {
	if a.IsExternal() != b.IsExternal() {
		if a.IsExternal() {
			return -1
		}
		return 1
	}
	if a.IsExternal() {
		return cmp.Or(a.Range.Addr().Compare(b.Range.Addr()), cmp.Compare(a.Range.Bits(), b.Range.Bits()))
	}
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
}

// Evidence is the observed traffic of a peer pair on a probe: connections
// the dataplane let through (Forwarded) and dropped (Dropped), and when the
// last was seen.
type Evidence struct {
	Forwarded, Dropped int64
	LastSeen           time.Time
}

// Change is a peer pair and probe whose connectivity differs between the
// sides.
type Change struct {
	From, To *Peer
	Probe    netpol.Probe
	// Before is the state in the base, After in the head.
	Before, After State
	// Reasons say why, in the head: for a gain, the rules that now allow
	// the directions the base denied; for a loss, why each direction the
	// head denies is denied. The slice is shared between changes: do not
	// modify it.
	Reasons []string
	// Observed is the observed traffic of the pair on the probe, nil when
	// none was observed.
	Observed *Evidence
}

// Inventory lists namespaces, workloads and pods, each sorted.
type Inventory struct {
	Namespaces []string
	// Workloads are the top-level workloads (not bare pods).
	Workloads []Peer
	// Pods are "namespace/name".
	Pods []string
}

// Empty reports whether the inventory lists nothing.
func (i Inventory) Empty() bool {
	return len(i.Namespaces) == 0 && len(i.Workloads) == 0 && len(i.Pods) == 0
}

// Report is the difference between two sides. Its lists are sorted and
// never nil.
type Report struct {
	// Probes are the protocols and ports compared.
	Probes []netpol.Probe
	// Gained are the changes the head allows more of, Lost those it
	// allows less of. A pair with a peer that exists on one side only is
	// in neither: the peer is in Appeared or Disappeared.
	Gained, Lost []Change
	// Breakages are the lost changes that observed traffic uses (some
	// of it forwarded); Openings the gained changes that no observed
	// traffic, forwarded or dropped, uses. Both are empty without
	// observed traffic.
	Breakages, Openings []Change
	// Appeared lists what the head has and the base has not;
	// Disappeared the reverse.
	Appeared, Disappeared Inventory
	// Observed reports whether observed traffic was given.
	Observed bool
	// Unevaluated counts the observed edge ports left out: reserved
	// identities (host, world without an address...), workloads that are
	// not on both sides, and protocols without ports (ICMP).
	Unevaluated int
}

// Changed reports whether the sides differ: a connection gained or lost,
// or a namespace, workload or pod that appeared or disappeared.
func (r *Report) Changed() bool {
	return len(r.Gained) > 0 || len(r.Lost) > 0 || !r.Appeared.Empty() || !r.Disappeared.Empty()
}
