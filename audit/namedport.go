package audit

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

func checkNamedPorts(a *auditor, c *check) {
	a.eachRule(func(p *policyInfo, d direction, i int, r rule) {
		var candidates []simulate.EndpointID // where the rule's named ports resolve
		found := false
		for j, port := range r.ports {
			if port.Port == nil || port.Port.Type != intstr.String {
				continue
			}
			if !found {
				candidates, found = a.namedPortCandidates(p, d, r), true
			}
			if len(candidates) == 0 {
				return // nothing to resolve on: reported as a policy that selects nothing
			}
			proto := netpol.ProtocolTCP
			if port.Protocol != nil && *port.Protocol != corev1.ProtocolTCP {
				proto, _ = netpol.ParseProtocol(string(*port.Protocol))
			}
			if a.resolves(candidates, port.Port.StrVal, proto) {
				continue
			}
			whose := "the pods and workloads the policy selects"
			if d.egress {
				whose = "the pods and workloads the rule's destinations match"
			}
			field := fmt.Sprintf("%s.ports[%d].port", d.ruleField(i), j)
			a.add(c, Finding{
				Object: p.object(),
				Field:  field,
				Message: fmt.Sprintf("named port %s/%s is a container port of none of %s (%s): the rule allows nothing on it",
					port.Port.StrVal, proto, whose, a.names(candidates)),
				Fix: "use the name of a container port of those pods (kubectl get pods -o jsonpath='{..ports}'), or the port number",
			})
		}
	})
}

// namedPortCandidates returns the endpoints a rule's named ports resolve
// on: for ingress, the pods the policy selects; for egress, the pods its
// peers match (every pod for a rule without peers or with an ipBlock).
func (a *auditor) namedPortCandidates(p *policyInfo, d direction, r rule) []simulate.EndpointID {
	if !d.egress {
		return p.selects
	}
	var out []simulate.EndpointID
	for i := range a.eps {
		ep := &a.eps[i]
		if !selectable(ep) {
			continue
		}
		match := len(r.peers) == 0
		for k := range r.peers {
			match = match || r.peers[k].IPBlock != nil || peerMatches(p.np.Namespace, &r.peers[k], ep)
		}
		if match {
			out = append(out, simulate.EndpointID(i))
		}
	}
	return out
}

// resolves reports whether one of the endpoints has a container port of
// that name and protocol.
func (a *auditor) resolves(ids []simulate.EndpointID, name string, proto netpol.Protocol) bool {
	for _, id := range ids {
		for _, port := range a.eps[id].Ports {
			if port.Name == name && port.Protocol == proto {
				return true
			}
		}
	}
	return false
}
