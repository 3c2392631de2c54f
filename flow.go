package netpol

import (
	"context"
	"net/netip"
	"time"
)

// ProtocolICMP is the protocol of ICMP and ICMPv6 flows. NetworkPolicy ports
// cannot name it, so ParseProtocol does not accept it.
const ProtocolICMP Protocol = 4

// FlowVerdict is what the dataplane did with a flow. The zero value is
// FlowVerdictUnknown.
type FlowVerdict uint8

// The flow verdicts.
const (
	FlowVerdictUnknown FlowVerdict = iota
	Forwarded
	Dropped
	Audit
	Redirected
)

// String returns "forwarded", "dropped", "audit", "redirected" or "unknown".
func (v FlowVerdict) String() string {
	switch v {
	case Forwarded:
		return "forwarded"
	case Dropped:
		return "dropped"
	case Audit:
		return "audit"
	case Redirected:
		return "redirected"
	}
	return "unknown"
}

// Reserved names an identity that is not a pod: the node itself, other
// nodes, the world outside the cluster, the API server, the cluster DNS. The
// zero value is no reserved identity.
type Reserved string

// The reserved identities.
const (
	ReservedNone          Reserved = ""
	ReservedHost          Reserved = "host"
	ReservedRemoteNode    Reserved = "remote-node"
	ReservedWorld         Reserved = "world"
	ReservedKubeAPIServer Reserved = "kube-apiserver"
	ReservedClusterDNS    Reserved = "cluster-dns"
)

// Tri is a boolean that may be unknown. The zero value is Unknown.
type Tri uint8

// The values of Tri.
const (
	Unknown Tri = iota
	Yes
	No
)

// WorkloadRef names a workload: a controller ("Deployment", "StatefulSet",
// "DaemonSet", "CronJob", "Job", "ReplicaSet", "ReplicationController") or a
// bare "Pod". The zero value is no workload.
type WorkloadRef struct {
	Namespace string
	Kind      string
	Name      string
}

// String returns "namespace/name" (the kind is not part of it).
func (w WorkloadRef) String() string { return w.Namespace + "/" + w.Name }

// FlowEndpoint is one side of an observed flow, with as much as the source
// knew: address and port always, the rest where known.
type FlowEndpoint struct {
	IP        netip.Addr
	Port      uint16
	Namespace string
	Pod       string
	Labels    map[string]string
	Workload  WorkloadRef
	Node      string
	Reserved  Reserved
	// Identity is the Cilium security identity, 0 when unknown.
	Identity uint32
}

// DNS holds what a flow carried of a DNS exchange.
type DNS struct {
	Query   string
	Answers []netip.Addr
}

// Flow is one observed connection event. Source and Destination are in the
// direction of the packet; Reply says whether the packet was a reply (its
// Destination is then the connection's initiator).
type Flow struct {
	Time        time.Time
	Source      FlowEndpoint
	Destination FlowEndpoint
	Protocol    Protocol
	Verdict     FlowVerdict
	Reply       Tri
	DNS         *DNS
	// Node is the node that observed the flow, where known.
	Node string
}

// SourceStats counts what a flow source read.
type SourceStats struct {
	// Flows is the number of flows emitted.
	Flows int64
	// Skipped counts records that are not flows (lost events, node status),
	// by kind.
	Skipped map[string]int64
	// Rejected is the number of malformed records; Problems holds the first
	// of them with their position ("flows.json:12: ...").
	Rejected int64
	Problems []string
}

// FlowSource delivers observed flows: Hubble files or Relay, conntrack
// dumps. Run calls emit for each flow, in the order observed, until the
// source ends, ctx is done, or emit returns an error (which Run returns).
// A flow passed to emit must not be kept after emit returns.
type FlowSource interface {
	Run(ctx context.Context, emit func(*Flow) error) error
	Stats() SourceStats
}
