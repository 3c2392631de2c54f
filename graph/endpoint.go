package graph

import (
	"net/netip"
	"time"

	"github.com/netpol/netpol"
)

// Outcome says how an endpoint resolved.
type Outcome uint8

// The outcomes of Resolver.Endpoint. The zero value is Unresolvable.
const (
	// Unresolvable: the endpoint carries nothing to resolve (no pod, no
	// valid address, no reserved identity).
	Unresolvable Outcome = iota
	// Resolved: the node is known.
	Resolved
	// Pending: the endpoint is a cluster endpoint (it carries a namespace,
	// labels or a cluster security identity) whose pod is not known yet. It
	// never becomes an invented workload; it may resolve later, once its
	// address or identity is seen with a pod.
	Pending
)

// Cilium's security identities below minClusterIdentity are reserved (host,
// world, health...); those from localIdentityScope up are node-local CIDR
// identities. Neither names a workload.
const (
	minClusterIdentity = 256
	localIdentityScope = 1 << 24
)

func clusterIdentity(id uint32) bool {
	return id >= minClusterIdentity && id < localIdentityScope
}

// Endpoint resolves one side of a flow, in this order: a pod name (see
// Pod); a reserved identity other than world; the address of a snapshot
// pod; a snapshot node's address, which becomes the reserved host when it is
// the observer's (the node that reported the flow) and remote-node
// otherwise; an address or identity learned from other flows; the one
// snapshot workload of its namespace whose pods carry all of its labels
// (see byLabels); a cluster endpoint still unknown (Pending); the reserved world without an address;
// else the address as an External node. now is the flow's time.
func (r *Resolver) Endpoint(ep *netpol.FlowEndpoint, observer string, now time.Time) (Node, Outcome) {
	if ep.Pod != "" && ep.Namespace != "" {
		return r.Pod(ep.Namespace, ep.Pod, ep.Labels, ep.Workload, now), Resolved
	}
	if ep.Reserved != netpol.ReservedNone && ep.Reserved != netpol.ReservedWorld {
		return ReservedNode(ep.Reserved), Resolved
	}
	ip := ep.IP.Unmap().WithZone("")
	if ip.IsValid() && ep.Reserved != netpol.ReservedWorld {
		if k, ok := r.podByIP[ip]; ok {
			return r.Pod(k.ns, k.name, nil, netpol.WorkloadRef{}, now), Resolved
		}
		if node, ok := r.nodeByIP[ip]; ok {
			if observer != "" && node == observer {
				return ReservedNode(netpol.ReservedHost), Resolved
			}
			return ReservedNode(netpol.ReservedRemoteNode), Resolved
		}
		if n, ok := r.Learned(ip, ep.Identity); ok {
			return n, Resolved
		}
	}
	if ep.Reserved == netpol.ReservedNone && (ep.Namespace != "" || len(ep.Labels) > 0 || clusterIdentity(ep.Identity)) {
		if n, ok := r.byLabels(ep, now); ok {
			return n, Resolved
		}
		return Node{}, Pending
	}
	if !ip.IsValid() {
		if ep.Reserved == netpol.ReservedWorld {
			return ReservedNode(netpol.ReservedWorld), Resolved
		}
		return Node{}, Unresolvable
	}
	return ExternalNode(ip), Resolved
}

// Learn records that ep, resolved to the workload or pod n from its pod
// name, has ep's address and security identity, so that endpoints carrying
// only one of them resolve to n. An address moves to the last pod seen with
// it; an identity seen with two workloads resolves no more.
func (r *Resolver) Learn(ep *netpol.FlowEndpoint, n Node) {
	if !n.IsWorkload() || ep.Pod == "" {
		return
	}
	if ip := ep.IP.Unmap().WithZone(""); ip.IsValid() {
		r.learnedIP[ip] = n
	}
	if clusterIdentity(ep.Identity) {
		old, ok := r.learnedID[ep.Identity]
		switch {
		case !ok:
			r.learnedID[ep.Identity] = n
		case old != n && old != Node{}:
			r.learnedID[ep.Identity] = Node{}
		}
	}
}

// Learned returns the node learned for address ip, else for identity id.
func (r *Resolver) Learned(ip netip.Addr, id uint32) (Node, bool) {
	if n, ok := r.learnedIP[ip.Unmap().WithZone("")]; ok {
		return n, true
	}
	if n, ok := r.learnedID[id]; ok && n != (Node{}) && clusterIdentity(id) {
		return n, true
	}
	return Node{}, false
}

// byLabels resolves an endpoint that has a namespace and labels but no pod
// or known address: to the workload of the snapshot's pods, and of its
// top-level workloads' pod templates, that carry every one of its labels
// (Hubble reports a subset of the pod's labels), when they all belong to
// one workload. Several workloads, or none, resolve nothing. Results are
// cached per security identity.
func (r *Resolver) byLabels(ep *netpol.FlowEndpoint, now time.Time) (Node, bool) {
	if ep.Namespace == "" || len(ep.Labels) == 0 || len(r.pods)+len(r.workloads) == 0 {
		return Node{}, false
	}
	if n, ok := r.labelCache[ep.Identity]; ok && clusterIdentity(ep.Identity) {
		return n, n != (Node{})
	}
	var found Node
	ambiguous := false
	r.matching(ep.Namespace, ep.Labels, now, func(n Node, _ []netpol.Port) {
		if found != (Node{}) && found != n {
			ambiguous = true
		}
		found = n
	})
	if ambiguous {
		found = Node{}
	}
	if clusterIdentity(ep.Identity) && len(r.labelCache) < maxCache {
		r.labelCache[ep.Identity] = found
	}
	return found, found != (Node{})
}
