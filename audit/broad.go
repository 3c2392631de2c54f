package audit

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol/simulate"
)

// broadSeverity is the severity of a broad rule: an ingress rule exposes
// the selected pods, an egress rule only lets them out.
func broadSeverity(d direction) Severity {
	if d.egress {
		return Low
	}
	return Medium
}

// eachRule calls f for every rule of every direction that applies to each
// policy.
func (a *auditor) eachRule(f func(p *policyInfo, d direction, i int, r rule)) {
	for _, p := range a.pols {
		for _, d := range []direction{ingress, egress} {
			if !d.applies(p) {
				continue
			}
			for i, r := range d.rules(p.np) {
				f(p, d, i, r)
			}
		}
	}
}

func checkAnyPeer(a *auditor, c *check) {
	a.eachRule(func(p *policyInfo, d direction, i int, r rule) {
		if len(r.peers) > 0 {
			return
		}
		who := "every pod of every namespace and every address may connect"
		fix := "list the sources in from: netpol recipe show limit-traffic-to-app, allow-from-namespace, allow-external"
		if d.egress {
			who = "the pods may connect to every pod and every address"
			fix = "list the destinations in to, such as netpol recipe show deny-external-egress or allow-dns-egress"
		}
		a.add(c, Finding{
			Severity: broadSeverity(d),
			Object:   p.object(),
			Field:    d.ruleField(i),
			Message:  fmt.Sprintf("no %s: %s, %s", d.peers, who, portsText(r.ports)),
			Fix:      fix,
		})
	})
}

func checkAllNamespaces(a *auditor, c *check) {
	a.eachRule(func(p *policyInfo, d direction, i int, r rule) {
		for j, peer := range r.peers {
			if !emptySelector(peer.NamespaceSelector) || peer.PodSelector != nil && !emptySelector(peer.PodSelector) {
				continue
			}
			fix := fmt.Sprintf("name the namespaces: netpol recipe render allow-from-namespace -n %s --set app=APP --set fromNamespace=NS", p.np.Namespace)
			if d.egress {
				fix = "select the destination namespaces by name (kubernetes.io/metadata.name) instead of namespaceSelector {}"
			}
			a.add(c, Finding{
				Severity: broadSeverity(d),
				Object:   p.object(),
				Field:    d.peerField(i, j) + ".namespaceSelector",
				Message:  fmt.Sprintf("namespaceSelector {} matches every pod of every namespace, %s", portsText(r.ports)),
				Fix:      fix,
			})
		}
	})
}

func checkAllAddresses(a *auditor, c *check) {
	a.eachRule(func(p *policyInfo, d direction, i int, r rule) {
		for j, peer := range r.peers {
			if peer.IPBlock == nil {
				continue
			}
			cidr, err := simulate.ParseIPBlockCIDR(peer.IPBlock.CIDR)
			if err != nil || cidr.Bits() != 0 {
				continue
			}
			what := "every IPv4 address"
			if cidr.Addr().Is6() {
				what = "every IPv6 address"
			}
			if len(peer.IPBlock.Except) > 0 {
				what += " except " + strings.Join(peer.IPBlock.Except, ", ")
			}
			fix := "narrow cidr to the clients' address ranges and except the cluster's pod and node ranges (netpol recipe show allow-external)"
			if d.egress {
				fix = "narrow cidr to the destinations' ranges, or at least except 169.254.169.254/32 and the cluster's pod, node and service ranges"
			}
			a.add(c, Finding{
				Severity: broadSeverity(d),
				Object:   p.object(),
				Field:    d.peerField(i, j) + ".ipBlock.cidr",
				Message:  fmt.Sprintf("ipBlock %s matches %s, %s", peer.IPBlock.CIDR, what, portsText(r.ports)),
				Fix:      fix,
			})
		}
	})
}

// portsText describes a rule's ports: "on every port", "on TCP/80, dns/UDP".
func portsText(ports []networkingv1.NetworkPolicyPort) string {
	if len(ports) == 0 {
		return "on every port"
	}
	var s []string
	for _, p := range ports {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		switch {
		case p.Port == nil:
			s = append(s, "every "+proto+" port")
		case p.Port.Type == intstr.String:
			s = append(s, p.Port.StrVal+"/"+proto)
		case p.EndPort != nil:
			s = append(s, fmt.Sprintf("%s/%d-%d", proto, p.Port.IntVal, *p.EndPort))
		default:
			s = append(s, fmt.Sprintf("%s/%d", proto, p.Port.IntVal))
		}
	}
	return "on " + strings.Join(s, ", ")
}
