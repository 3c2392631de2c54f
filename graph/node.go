package graph

import (
	"cmp"
	"fmt"
	"net/netip"
	"strings"

	"github.com/netpol/netpol"
)

// Kind is what a Node stands for: a workload kind ("Deployment",
// "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet",
// "ReplicationController", or any other controller kind found in an owner
// reference), a bare "Pod", an "External" address or a "Reserved" identity.
// The zero value is no kind, and the zero Node is not a valid node.
type Kind string

// The kinds of node that the package itself produces.
const (
	KindDeployment            Kind = "Deployment"
	KindStatefulSet           Kind = "StatefulSet"
	KindDaemonSet             Kind = "DaemonSet"
	KindReplicaSet            Kind = "ReplicaSet"
	KindReplicationController Kind = "ReplicationController"
	KindJob                   Kind = "Job"
	KindCronJob               Kind = "CronJob"
	KindPod                   Kind = "Pod"
	KindExternal              Kind = "External"
	KindReserved              Kind = "Reserved"
)

// Node is a vertex of the graph: a workload or bare pod (Kind, Namespace,
// Name), an external address (KindExternal, Name is the address in its
// canonical form, Namespace empty) or a reserved identity (KindReserved,
// Name is the identity, as "host" or "world"). Node is comparable and is
// used as a map key.
type Node struct {
	Kind      Kind
	Namespace string
	Name      string
}

// WorkloadNode returns the node of a workload or bare pod.
func WorkloadNode(kind Kind, namespace, name string) Node {
	return Node{Kind: kind, Namespace: namespace, Name: name}
}

// ExternalNode returns the node of an address outside the cluster's pods.
// An IPv4-mapped IPv6 address is unmapped first.
func ExternalNode(a netip.Addr) Node {
	return Node{Kind: KindExternal, Name: a.Unmap().WithZone("").String()}
}

// ReservedNode returns the node of a reserved identity.
func ReservedNode(r netpol.Reserved) Node {
	return Node{Kind: KindReserved, Name: string(r)}
}

// IsWorkload reports whether n is a workload or a bare pod, that is neither
// external nor reserved (nor the zero Node).
func (n Node) IsWorkload() bool {
	return n.Kind != "" && n.Kind != KindExternal && n.Kind != KindReserved
}

// Addr returns the address of an external node, and the zero Addr for any
// other node.
func (n Node) Addr() netip.Addr {
	if n.Kind != KindExternal {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(n.Name)
	return a
}

// String returns the node's display name: "namespace/name" for workloads
// and pods (the kind is not part of it), the address for externals, and
// "reserved:name" for reserved identities, as Cilium labels them.
func (n Node) String() string {
	switch n.Kind {
	case KindExternal:
		return n.Name
	case KindReserved:
		return "reserved:" + n.Name
	}
	return n.Namespace + "/" + n.Name
}

// Key returns the node's unique, parseable name: "Kind:namespace/name" for
// workloads and pods, "External:address" and "Reserved:name" for the
// others. ParseNode reads it back.
func (n Node) Key() string {
	switch n.Kind {
	case KindExternal, KindReserved:
		return string(n.Kind) + ":" + n.Name
	}
	return string(n.Kind) + ":" + n.Namespace + "/" + n.Name
}

// Compare orders nodes by namespace, name and kind; externals and reserved
// identities have no namespace and so come first.
func (n Node) Compare(o Node) int {
	return cmp.Or(cmp.Compare(n.Namespace, o.Namespace), cmp.Compare(n.Name, o.Name), cmp.Compare(n.Kind, o.Kind))
}

// ParseNode reads a node key as Key writes it. It checks the shape of the
// key: an External address must parse, and a workload needs a namespace
// and a name.
func ParseNode(key string) (Node, error) {
	kind, rest, ok := strings.Cut(key, ":")
	if !ok || kind == "" || rest == "" {
		return Node{}, fmt.Errorf("node %q: want Kind:namespace/name, External:address or Reserved:name", key)
	}
	switch Kind(kind) {
	case KindExternal:
		a, err := netip.ParseAddr(rest)
		if err != nil {
			return Node{}, fmt.Errorf("node %q: %w", key, err)
		}
		n := ExternalNode(a)
		if n.Name != rest {
			return Node{}, fmt.Errorf("node %q: address is not in canonical form %q", key, n.Name)
		}
		return n, nil
	case KindReserved:
		return Node{Kind: KindReserved, Name: rest}, nil
	}
	ns, name, ok := strings.Cut(rest, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return Node{}, fmt.Errorf("node %q: want Kind:namespace/name", key)
	}
	return Node{Kind: Kind(kind), Namespace: ns, Name: name}, nil
}
