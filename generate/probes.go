package generate

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
)

// portItem is a protocol and an inclusive port interval that some policy
// port can match.
type portItem struct {
	protocol    netpol.Protocol
	first, last uint16
}

// representativeProbes returns one probe for every class of ports that
// the policies cannot tell apart: two ports of a protocol are in one class
// when every policy port (a number, a range, or a named port resolved on
// any endpoint) matches both or neither. A verdict on the probe is the
// verdict on every port of its class, so checking these probes checks
// every port. TCP, UDP and SCTP each get at least one probe.
func representativeProbes(policies []networkingv1.NetworkPolicy, eps []netpol.Endpoint) []netpol.Probe {
	items := map[portItem]bool{}
	named := map[string]bool{}
	add := func(ports []networkingv1.NetworkPolicyPort) {
		for _, p := range ports {
			proto := netpol.ProtocolTCP
			if p.Protocol != nil {
				proto, _ = netpol.ParseProtocol(string(*p.Protocol))
			}
			switch {
			case p.Port == nil:
				items[portItem{proto, 1, 65535}] = true
			case p.Port.StrVal != "":
				named[p.Port.StrVal+"/"+proto.String()] = true
			case p.Port.IntVal > 0 && p.Port.IntVal < 65536:
				last := p.Port.IntVal
				if p.EndPort != nil && *p.EndPort > last && *p.EndPort < 65536 {
					last = *p.EndPort
				}
				items[portItem{proto, uint16(p.Port.IntVal), uint16(last)}] = true
			}
		}
	}
	for i := range policies {
		for _, r := range policies[i].Spec.Ingress {
			add(r.Ports)
		}
		for _, r := range policies[i].Spec.Egress {
			add(r.Ports)
		}
	}
	for _, ep := range eps {
		for _, p := range ep.Ports {
			if named[p.Name+"/"+p.Protocol.String()] {
				items[portItem{p.Protocol, p.Port, p.Port}] = true
			}
		}
	}
	var out []netpol.Probe
	for _, proto := range []netpol.Protocol{netpol.ProtocolTCP, netpol.ProtocolUDP, netpol.ProtocolSCTP} {
		out = append(out, classes(proto, items)...)
	}
	return out
}

// classes returns a probe for each class of ports of proto.
func classes(proto netpol.Protocol, items map[portItem]bool) []netpol.Probe {
	var mine []portItem
	bounds := []uint32{1}
	for it := range items {
		if it.protocol == proto {
			mine = append(mine, it)
			bounds = append(bounds, uint32(it.first), uint32(it.last)+1)
		}
	}
	slices.SortFunc(mine, func(a, b portItem) int { return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last)) })
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	seen := map[string]bool{}
	var out []netpol.Probe
	for _, x := range bounds {
		if x > 65535 {
			break
		}
		var sig strings.Builder
		for i, it := range mine {
			if uint32(it.first) <= x && x <= uint32(it.last) {
				sig.WriteString(strconv.Itoa(i) + ",")
			}
		}
		if !seen[sig.String()] {
			seen[sig.String()] = true
			out = append(out, netpol.Probe{Protocol: proto, Port: uint16(x)})
		}
	}
	return out
}
