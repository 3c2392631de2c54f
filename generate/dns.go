package generate

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// dnsPort is the port clients send DNS to.
const dnsPort = 53

// dnsProbes are UDP/53 and TCP/53.
var dnsProbes = []netpol.Probe{{Protocol: netpol.ProtocolTCP, Port: dnsPort}, {Protocol: netpol.ProtocolUDP, Port: dnsPort}}

// discoverDNS finds the cluster DNS: the kube-dns Service of the snapshot
// (or another DNS Service on port 53), its backends and the ports they
// listen on; else the workloads that answered port 53 in the flows. It
// adds the DNS Service's addresses and the link-local (NodeLocal
// DNSCache) addresses that flows sent port 53 to.
func discoverDNS(inv *inventory, edges []graph.Edge) DNS {
	var d DNS
	svc := findDNSService(inv.snap)
	if svc != nil {
		d = inv.dnsFromService(svc)
	}
	if len(d.Selectors) == 0 && len(d.Addresses) == 0 {
		d = inv.dnsFromFlows(edges)
	}
	var clusterIPs []netip.Addr
	if svc != nil {
		for _, ip := range append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...) {
			if a, err := netip.ParseAddr(ip); err == nil {
				clusterIPs = append(clusterIPs, a.Unmap())
			}
		}
	}
	// NodeLocal DNSCache answers on the DNS Service's own addresses without
	// translating them (and on a link-local address): a policy then sees
	// the Service address, not a DNS pod. Allowing it costs nothing when
	// the Service is translated as usual, and blackholes DNS when missing.
	if len(d.Selectors)+len(d.Addresses) > 0 {
		d.front = append(d.front, clusterIPs...)
	}
	for _, e := range edges {
		a := e.To.Addr()
		if a.IsValid() && hasDNSPort(e.Forwarded) && a.IsLinkLocalUnicast() {
			d.front = append(d.front, a)
		}
	}
	slices.SortFunc(d.front, netip.Addr.Compare)
	d.front = slices.Compact(d.front)
	d.Addresses = append(d.Addresses, d.front...)
	slices.SortFunc(d.Addresses, netip.Addr.Compare)
	d.Addresses = slices.Compact(d.Addresses)
	if d.Source == "" && len(d.Addresses) > 0 {
		d.Source = "flows"
	}
	return d
}

func hasDNSPort(ps []graph.PortStats) bool {
	for _, p := range ps {
		if p.Port == dnsPort && (p.Protocol == netpol.ProtocolUDP || p.Protocol == netpol.ProtocolTCP) {
			return true
		}
	}
	return false
}

// findDNSService returns the cluster DNS Service: kube-system/kube-dns,
// else a Service labelled k8s-app=kube-dns, else a Service of kube-system
// with a port 53 and "dns" in its name, else any such Service; nil when
// there is none.
func findDNSService(s *netpol.Snapshot) *corev1.Service {
	rank := func(v *corev1.Service) int {
		has53 := false
		for _, p := range v.Spec.Ports {
			has53 = has53 || p.Port == dnsPort
		}
		switch {
		case !has53:
			return 0
		case v.Namespace == "kube-system" && v.Name == "kube-dns":
			return 4
		case v.Labels["k8s-app"] == "kube-dns":
			return 3
		case v.Namespace == "kube-system" && strings.Contains(v.Name, "dns"):
			return 2
		case strings.Contains(v.Name, "dns"):
			return 1
		}
		return 0
	}
	var best *corev1.Service
	for i := range s.Services {
		v := &s.Services[i]
		if r := rank(v); r > 0 && (best == nil || r > rank(best) ||
			r == rank(best) && cmp.Or(cmp.Compare(v.Namespace, best.Namespace), cmp.Compare(v.Name, best.Name)) < 0) {
			best = v
		}
	}
	return best
}

// dnsFromService takes the Service's backends (its EndpointSlices, else
// the endpoints its selector matches), the podSelector it really has (or,
// without one, the backends' own selectors) and the ports its backends
// listen on for port 53.
func (inv *inventory) dnsFromService(svc *corev1.Service) DNS {
	d := DNS{Source: "Service " + svc.Namespace + "/" + svc.Name, Namespace: svc.Namespace}
	backends, addrs := inv.serviceBackends(svc)
	var pods []int
	for _, i := range backends {
		if inv.endpoints[i].HostNetwork {
			addrs = append(addrs, inv.endpoints[i].IPs...)
		} else {
			pods = append(pods, i)
		}
	}
	d.Addresses = addrs
	seen := map[graph.Node]bool{}
	for _, i := range pods {
		if n := inv.nodeOf[i]; !seen[n] {
			seen[n] = true
			d.Workloads = append(d.Workloads, n)
		}
	}
	slices.SortFunc(d.Workloads, graph.Node.Compare)
	switch {
	case len(svc.Spec.Selector) > 0 && (len(pods) > 0 || len(addrs) == 0):
		d.Selectors = []map[string]string{maps.Clone(svc.Spec.Selector)}
	default:
		for _, n := range d.Workloads {
			if c := inv.selector(inv.workloads[n]); c.labels != nil {
				d.Selectors = append(d.Selectors, c.labels)
			}
		}
	}
	d.Ports = inv.dnsTargetPorts(svc, pods)
	return d
}

// serviceBackends returns the endpoints behind svc (indexes into
// inv.endpoints) and the addresses of its EndpointSlices that are no
// endpoint of the snapshot.
func (inv *inventory) serviceBackends(svc *corev1.Service) (eps []int, addrs []netip.Addr) {
	byName := map[string]int{}
	byIP := map[netip.Addr]int{}
	for i, ep := range inv.endpoints {
		if ep.Namespace == svc.Namespace {
			byName[ep.Name] = i
			for _, a := range ep.IPs {
				byIP[a] = i
			}
		}
	}
	sliced := false
	for _, es := range inv.snap.EndpointSlices {
		if es.Namespace != svc.Namespace || es.Labels["kubernetes.io/service-name"] != svc.Name {
			continue
		}
		for _, ep := range es.Endpoints {
			sliced = true
			if r := ep.TargetRef; r != nil && r.Kind == "Pod" {
				if i, ok := byName[r.Name]; ok {
					eps = append(eps, i)
					continue
				}
			}
			for _, raw := range ep.Addresses {
				a, err := netip.ParseAddr(raw)
				if err != nil {
					continue
				}
				if i, ok := byIP[a.Unmap()]; ok {
					eps = append(eps, i)
				} else {
					addrs = append(addrs, a.Unmap())
				}
			}
		}
	}
	if !sliced && len(svc.Spec.Selector) > 0 {
		for i, ep := range inv.endpoints {
			if ep.Namespace == svc.Namespace && matchesKeys(svc.Spec.Selector, slices.Collect(maps.Keys(svc.Spec.Selector)), ep.Labels) {
				eps = append(eps, i)
			}
		}
	}
	slices.Sort(eps)
	return slices.Compact(eps), addrs
}

// dnsTargetPorts returns the ports the backends listen on for the
// Service's port 53, UDP and TCP: the EndpointSlice port of the same name,
// else a numbered targetPort, else a named one resolved on the backends,
// else 53.
func (inv *inventory) dnsTargetPorts(svc *corev1.Service, pods []int) []netpol.Probe {
	slicePorts := map[string]int32{}
	for _, es := range inv.snap.EndpointSlices {
		if es.Namespace == svc.Namespace && es.Labels["kubernetes.io/service-name"] == svc.Name {
			for _, p := range es.Ports {
				if p.Port != nil && p.Name != nil {
					slicePorts[*p.Name] = *p.Port
				}
			}
		}
	}
	var numbers []uint16
	for _, sp := range svc.Spec.Ports {
		if sp.Port != dnsPort {
			continue
		}
		switch p, ok := slicePorts[sp.Name]; {
		case ok && p > 0 && p < 65536:
			numbers = append(numbers, uint16(p))
		case sp.TargetPort.StrVal != "":
			for _, i := range pods {
				for _, cp := range inv.endpoints[i].Ports {
					if cp.Name == sp.TargetPort.StrVal {
						numbers = append(numbers, cp.Port)
					}
				}
			}
		case sp.TargetPort.IntVal > 0 && sp.TargetPort.IntVal < 65536:
			numbers = append(numbers, uint16(sp.TargetPort.IntVal))
		default:
			numbers = append(numbers, dnsPort)
		}
	}
	if len(numbers) == 0 {
		numbers = []uint16{dnsPort}
	}
	var out []netpol.Probe
	for _, n := range numbers {
		out = append(out, netpol.Probe{Protocol: netpol.ProtocolTCP, Port: n}, netpol.Probe{Protocol: netpol.ProtocolUDP, Port: n})
	}
	return sortProbes(out)
}

// dnsFromFlows finds the DNS in the flows: the workloads that answered
// port 53 from another namespace: those of kube-system if any, else those
// named like DNS.
func (inv *inventory) dnsFromFlows(edges []graph.Edge) DNS {
	var cands []graph.Node
	for _, e := range edges {
		if w := inv.workloads[e.To]; w != nil && !w.hostNetwork && e.From.Namespace != e.To.Namespace && hasDNSPort(e.Forwarded) {
			cands = append(cands, e.To)
		}
	}
	slices.SortFunc(cands, graph.Node.Compare)
	cands = slices.Compact(cands)
	keep := func(f func(graph.Node) bool) []graph.Node {
		var out []graph.Node
		for _, n := range cands {
			if f(n) {
				out = append(out, n)
			}
		}
		return out
	}
	found := keep(func(n graph.Node) bool { return n.Namespace == "kube-system" })
	if len(found) == 0 {
		found = keep(func(n graph.Node) bool { return strings.Contains(n.Name, "dns") })
	}
	var d DNS
	for _, n := range found {
		c := inv.selector(inv.workloads[n])
		if c.labels == nil || d.Namespace != "" && d.Namespace != n.Namespace {
			continue
		}
		d.Source, d.Namespace = "flows", n.Namespace
		d.Selectors = append(d.Selectors, c.labels)
		d.Workloads = append(d.Workloads, n)
	}
	if d.Source != "" {
		d.Ports = slices.Clone(dnsProbes)
	}
	return d
}

// sortProbes sorts and deduplicates probes by protocol and port.
func sortProbes(ps []netpol.Probe) []netpol.Probe {
	slices.SortFunc(ps, netpol.Probe.Compare)
	return slices.Compact(ps)
}

// isDNS reports whether a connection to n with probe p is DNS that
// allow-dns allows.
func (d *DNS) isDNS(n graph.Node, p netpol.Probe) bool {
	if a := n.Addr(); a.IsValid() {
		if slices.Contains(d.front, a) {
			return slices.Contains(dnsProbes, p)
		}
		return slices.Contains(d.Addresses, a) && slices.Contains(d.Ports, p)
	}
	return slices.Contains(d.Workloads, n) && slices.Contains(d.Ports, p)
}
