package audit

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// destination is a sensitive endpoint and probe that egress checks try.
type destination struct {
	id    simulate.EndpointID
	probe netpol.Probe
	text  string // "node-1 (10.0.0.1) TCP/2379"
}

// hit is an egress rule (or one peer of it) that lets sources reach
// destinations.
type hit struct {
	policy, rule, peer int32
	srcs               []simulate.EndpointID
	dsts               map[string]bool
}

// egressHits simulates every egress-isolated subject towards every
// destination and groups the allowed connections by the rule that allowed
// them. Sources that no egress policy selects are left out: their namespace
// is reported as without a default-deny for egress.
func (a *auditor) egressHits(dests []destination) []*hit {
	type key struct{ policy, rule, peer int32 }
	byKey := map[key]*hit{}
	var out []*hit
	for _, src := range a.subjects() {
		if len(a.egressOf[src]) == 0 {
			continue
		}
		for _, d := range dests {
			if d.id == src {
				continue
			}
			r := a.eng.Evaluate(src, d.id, d.probe)
			if r.Verdict != simulate.Allowed || r.Egress.Reason != simulate.RuleMatched {
				continue
			}
			k := key{r.Egress.Policy, r.Egress.Rule, r.Egress.Peer}
			h, ok := byKey[k]
			if !ok {
				h = &hit{policy: k.policy, rule: k.rule, peer: k.peer, dsts: map[string]bool{}}
				byKey[k] = h
				out = append(out, h)
			}
			if len(h.srcs) == 0 || h.srcs[len(h.srcs)-1] != src {
				h.srcs = append(h.srcs, src)
			}
			h.dsts[d.text] = true
		}
	}
	slices.SortFunc(out, func(x, y *hit) int {
		return cmp.Or(cmp.Compare(x.policy, y.policy), cmp.Compare(x.rule, y.rule), cmp.Compare(x.peer, y.peer))
	})
	return out
}

// reportHits adds a finding per hit: the rule, or the peer, that allows
// the sources to reach what.
func (a *auditor) reportHits(c *check, hits []*hit, what, fix string) {
	for _, h := range hits {
		p := a.pols[h.policy]
		field := egress.ruleField(int(h.rule))
		if h.peer >= 0 {
			field = egress.peerField(int(h.rule), int(h.peer))
		}
		a.add(c, Finding{
			Object: p.object(),
			Field:  field,
			Message: fmt.Sprintf("lets %s (%s) reach %s: %s",
				a.count(h.srcs), a.names(h.srcs), what, list(slices.Collect(maps.Keys(h.dsts)))),
			Fix: fix,
		})
	}
}

func checkMetadata(a *auditor, c *check) {
	id, ok := a.lookup(MetadataAddress)
	if !ok {
		return
	}
	hits := a.egressHits([]destination{{id, netpol.Probe{Protocol: netpol.ProtocolTCP, Port: 80}, MetadataAddress.String() + " TCP/80"}})
	a.reportHits(c, hits, "the cloud metadata address",
		"add 169.254.169.254/32 to the ipBlock's except, or narrow the rule's destinations")
}

// nodeDests returns the node addresses (and etcd pods) with each of the
// given probes.
func (a *auditor) nodeDests(probes []netpol.Probe, etcd bool) []destination {
	var out []destination
	for _, n := range a.targets.nodes {
		id, ok := a.lookup(n.ip)
		if !ok {
			continue
		}
		for _, p := range probes {
			out = append(out, destination{id, p, fmt.Sprintf("%s (%s) %s", n.node, n.ip, p)})
		}
	}
	if !etcd {
		return out
	}
	for i := range a.eps {
		ep := &a.eps[i]
		if ep.Kind != netpol.EndpointExternal && ep.Labels["component"] == "etcd" {
			for _, p := range probes {
				out = append(out, destination{simulate.EndpointID(i), p, ep.ID() + " " + p.String()})
			}
		}
	}
	return out
}

func (a *auditor) noteNoNodes(check string) bool {
	if len(a.targets.nodes) > 0 {
		return false
	}
	a.note("%s: the snapshot has no Node objects, so no node addresses to probe", check)
	return true
}

func checkEtcd(a *auditor, c *check) {
	a.noteNoNodes(c.ID)
	probes := []netpol.Probe{{Protocol: netpol.ProtocolTCP, Port: 2379}, {Protocol: netpol.ProtocolTCP, Port: 2380}}
	a.reportHits(c, a.egressHits(a.nodeDests(probes, true)), "etcd",
		"leave the control-plane nodes out of the rule's destinations, or ports 2379-2380 out of its ports")
}

// Node ports, as the API server allocates them by default.
const nodePortFirst, nodePortLast = 30000, 32767

func checkNodePorts(a *auditor, c *check) {
	if a.noteNoNodes(c.ID) {
		return
	}
	a.reportHits(c, a.egressHits(a.nodeDests(a.nodePortProbes(), false)), "node ports (30000-32767) of the nodes",
		"reach Services through their ClusterIP; leave the node addresses out of the rule's destinations, or 30000-32767 out of its ports")
}

// nodePortProbes returns TCP and UDP probes at 30000 and at every place
// where an egress rule's port range starts or ends inside the node-port
// range, so that every rule that allows some node port is probed.
func (a *auditor) nodePortProbes() []netpol.Probe {
	ports := []uint16{nodePortFirst}
	a.eachRule(func(p *policyInfo, d direction, i int, r rule) {
		if !d.egress {
			return
		}
		for _, pp := range r.ports {
			if pp.Port == nil || pp.Port.Type != intstr.Int {
				continue
			}
			first, last := int(pp.Port.IntVal), int(pp.Port.IntVal)
			if pp.EndPort != nil {
				last = int(*pp.EndPort)
			}
			if last < nodePortFirst || first > nodePortLast {
				continue
			}
			ports = append(ports, uint16(max(first, nodePortFirst)))
			if last < nodePortLast {
				ports = append(ports, uint16(last+1))
			}
		}
	})
	slices.Sort(ports)
	ports = slices.Compact(ports)
	var out []netpol.Probe
	for _, proto := range []netpol.Protocol{netpol.ProtocolTCP, netpol.ProtocolUDP} {
		for _, p := range ports {
			out = append(out, netpol.Probe{Protocol: proto, Port: p})
		}
	}
	return out
}

func checkAPIServer(a *auditor, c *check) {
	if a.targets.apiNote != "" {
		a.note("%s: %s", c.ID, a.targets.apiNote)
	}
	var dests []destination
	for _, e := range a.targets.apiServer {
		if id, ok := a.lookup(e.ip); ok {
			dests = append(dests, destination{id, e.probe, e.ip.String() + " " + e.probe.String()})
		}
	}
	a.reportHits(c, a.egressHits(dests), "the API server",
		"allow the API server only to the workloads that call it: netpol recipe show allow-api-server-egress")
}
