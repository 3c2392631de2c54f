package diff

import (
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// probeSet collects the probes that matter.
type probeSet map[netpol.Probe]bool

// add adds p when it is valid.
func (s probeSet) add(p netpol.Probe) {
	if p.Valid() {
		s[p] = true
	}
}

// addEndpoints adds every container port of eps.
func (s probeSet) addEndpoints(eps []netpol.Endpoint) {
	for i := range eps {
		for _, p := range eps[i].Ports {
			s.add(netpol.Probe{Protocol: p.Protocol, Port: p.Port})
		}
	}
}

// addPolicies adds every numeric port of the policies' rules, and the end
// of each port range.
func (s probeSet) addPolicies(nps []networkingv1.NetworkPolicy) {
	add := func(ports []networkingv1.NetworkPolicyPort) {
		for _, p := range ports {
			if p.Port == nil || p.Port.Type != intstr.Int {
				continue
			}
			proto := netpol.ProtocolTCP
			if p.Protocol != nil {
				var err error
				if proto, err = netpol.ParseProtocol(string(*p.Protocol)); err != nil {
					continue
				}
			}
			if n := p.Port.IntVal; n > 0 && n < 65536 {
				s.add(netpol.Probe{Protocol: proto, Port: uint16(n)})
			}
			if p.EndPort != nil && *p.EndPort > 0 && *p.EndPort < 65536 {
				s.add(netpol.Probe{Protocol: proto, Port: uint16(*p.EndPort)})
			}
		}
	}
	for i := range nps {
		for _, r := range nps[i].Spec.Ingress {
			add(r.Ports)
		}
		for _, r := range nps[i].Spec.Egress {
			add(r.Ports)
		}
	}
}

// sorted returns the probes by protocol (TCP, UDP, SCTP) and port.
func (s probeSet) sorted() []netpol.Probe {
	out := make([]netpol.Probe, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	slices.SortFunc(out, netpol.Probe.Compare)
	return out
}
