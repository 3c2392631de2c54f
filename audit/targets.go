package audit

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/netpol/netpol"
)

// MetadataAddress is the cloud metadata service (AWS, GCP, Azure and
// others), which hands out the node's credentials over HTTP.
var MetadataAddress = netip.MustParseAddr("169.254.169.254")

// targets are the sensitive destinations the egress checks probe.
type targets struct {
	nodes     []nodeAddr
	apiServer []apiEndpoint
	// apiNote says why the API server's endpoints are not known, or "".
	apiNote string
	podIPs  map[netip.Addr]bool // addresses of non-hostNetwork pods
}

type nodeAddr struct {
	node string
	ip   netip.Addr
}

// apiEndpoint is an address and port of the API server, as the kubernetes
// Service's EndpointSlices give them.
type apiEndpoint struct {
	ip    netip.Addr
	probe netpol.Probe
}

// probeTargets finds the node addresses and the API server endpoints of a
// snapshot.
func probeTargets(s *netpol.Snapshot) targets {
	t := targets{podIPs: map[netip.Addr]bool{}}
	for i := range s.Pods {
		p := &s.Pods[i]
		if !p.Spec.HostNetwork && !netpol.PodFinished(p) {
			for _, ip := range netpol.PodIPs(p) {
				t.podIPs[ip] = true
			}
		}
	}
	for i := range s.Nodes {
		for _, ip := range netpol.NodeIPs(&s.Nodes[i]) {
			t.nodes = append(t.nodes, nodeAddr{s.Nodes[i].Name, ip})
		}
	}
	t.apiServer, t.apiNote = apiServerEndpoints(s)
	return t
}

// apiServerEndpoints returns the addresses and ports of the kubernetes
// Service in default, from its EndpointSlices: what policies see of a
// connection to the API server, after the ClusterIP is translated.
func apiServerEndpoints(s *netpol.Snapshot) ([]apiEndpoint, string) {
	var out []apiEndpoint
	for _, es := range s.EndpointSlices {
		if es.Namespace != "default" || es.Labels[discoveryv1.LabelServiceName] != "kubernetes" {
			continue
		}
		for _, p := range es.Ports {
			if p.Port == nil || *p.Port <= 0 || *p.Port > 65535 || p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
				continue
			}
			for _, ep := range es.Endpoints {
				for _, raw := range ep.Addresses {
					if ip, err := netip.ParseAddr(raw); err == nil {
						out = append(out, apiEndpoint{ip.Unmap(), netpol.Probe{Protocol: netpol.ProtocolTCP, Port: uint16(*p.Port)}})
					}
				}
			}
		}
	}
	if len(out) > 0 {
		return out, ""
	}
	i := slices.IndexFunc(s.Services, func(v corev1.Service) bool { return v.Namespace == "default" && v.Name == "kubernetes" })
	if i < 0 {
		return nil, "the snapshot has no Service default/kubernetes and no EndpointSlices for it, so the API server's addresses are unknown"
	}
	// Without endpoints, the ClusterIP stands for the API server: policies
	// see the translated address, so a rule that allows the ClusterIP
	// allows nothing, but it shows the intent to reach the API server.
	svc := &s.Services[i]
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		return nil, "the Service default/kubernetes has no ClusterIP and no EndpointSlices in the snapshot, so the API server's addresses are unknown"
	}
	for _, p := range svc.Spec.Ports {
		if p.Port > 0 && p.Port <= 65535 && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
			out = append(out, apiEndpoint{ip.Unmap(), netpol.Probe{Protocol: netpol.ProtocolTCP, Port: uint16(p.Port)}})
		}
	}
	return out, "the Service default/kubernetes has no EndpointSlices in the snapshot; its ClusterIP stands for the API server's addresses"
}

// externals returns the addresses to add to the engine as externals: the
// metadata address, the nodes' and the API server's, without those that are
// pod addresses.
func (t targets) externals() []netip.Addr {
	out := []netip.Addr{MetadataAddress}
	for _, n := range t.nodes {
		out = append(out, n.ip)
	}
	for _, e := range t.apiServer {
		out = append(out, e.ip)
	}
	out = slices.DeleteFunc(out, func(ip netip.Addr) bool { return t.podIPs[ip] })
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}
