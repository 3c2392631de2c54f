package netpol

import (
	"net/netip"
	"strings"
)

// EndpointKind says what an Endpoint stands for. The zero value is
// EndpointUnknown.
type EndpointKind uint8

// The kinds of endpoint.
const (
	EndpointUnknown EndpointKind = iota
	// EndpointPod is a pod of the snapshot.
	EndpointPod
	// EndpointTemplate is a workload without pods in the snapshot, standing
	// for the pods it would create: its pod-template labels and container
	// ports, and no IP address.
	EndpointTemplate
	// EndpointExternal is an IP address outside the cluster's pods.
	EndpointExternal
)

// String returns "pod", "template", "external" or "unknown".
func (k EndpointKind) String() string {
	switch k {
	case EndpointPod:
		return "pod"
	case EndpointTemplate:
		return "template"
	case EndpointExternal:
		return "external"
	}
	return "unknown"
}

// Port is a container port, named or not; a NetworkPolicy named port resolves
// on the destination pod through the names.
type Port struct {
	Name     string
	Protocol Protocol
	Port     uint16
}

// Endpoint is one source or destination of connections: a pod, a workload
// template, or an external address. Labels and NamespaceLabels are nil for
// externals. IPs[0], when present, is the address the simulator uses for
// ipBlock matching (the pod's primary IP).
type Endpoint struct {
	Kind            EndpointKind
	Namespace       string
	Name            string
	WorkloadKind    string // for templates: "Deployment", "StatefulSet", ...
	Labels          map[string]string
	NamespaceLabels map[string]string
	IPs             []netip.Addr
	// Ports are the container ports of the pod (containers and native
	// sidecars, that is initContainers with restartPolicy Always), named or
	// not; Name is empty for unnamed ports.
	Ports       []Port
	HostNetwork bool
	NodeName    string
}

// ID is the endpoint's stable name: "namespace/name" for pods,
// "namespace/kind/name" for templates (kind lowercase, as
// "shop/deployment/web"), and the address for externals.
func (e Endpoint) ID() string {
	switch e.Kind {
	case EndpointExternal:
		if len(e.IPs) == 0 {
			return ""
		}
		return e.IPs[0].String()
	case EndpointTemplate:
		return e.Namespace + "/" + strings.ToLower(e.WorkloadKind) + "/" + e.Name
	}
	return e.Namespace + "/" + e.Name
}

// IP returns the endpoint's primary address, or the zero Addr when it has none.
func (e Endpoint) IP() netip.Addr {
	if len(e.IPs) == 0 {
		return netip.Addr{}
	}
	return e.IPs[0]
}

// External returns the endpoint for an address outside the cluster's pods.
func External(ip netip.Addr) Endpoint {
	return Endpoint{Kind: EndpointExternal, IPs: []netip.Addr{ip}}
}
