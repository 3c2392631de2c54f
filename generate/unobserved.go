package generate

import (
	"fmt"
	"net/netip"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/simulate"
)

// unobserved checks the second guarantee over every ordered pair of
// workload endpoints with at least one end isolated by the result (a pod
// of a policed namespace, not on the host network), on the
// probes that stand for every port: an allowed pair must have been
// observed, be DNS to the cluster DNS, or involve a pod and its own node.
func (v *verifier) unobserved(policies []networkingv1.NetworkPolicy) error {
	var ids []simulate.EndpointID
	var nodes []graph.Node
	var policed []bool
	total, inPoliced := 0, 0
	for _, w := range v.inv.workloads {
		total++
		if v.policed[w.node.Namespace] {
			inPoliced++
		}
	}
	v.c.Pairs = total*total - (total-inPoliced)*(total-inPoliced)
	for i, ep := range v.inv.endpoints {
		id, ok := v.eng.Lookup(ep.ID())
		if !ok {
			continue
		}
		ids = append(ids, id)
		nodes = append(nodes, v.inv.nodeOf[i])
		// A hostNetwork pod is its node: no policy isolates it.
		policed = append(policed, v.policed[v.inv.nodeOf[i].Namespace] && !ep.HostNetwork)
	}
	v.c.Probes = representativeProbes(policies, v.inv.endpoints)
	m := v.eng.Matrix(ids, v.c.Probes)
	var gen *simulate.Engine
	reported := map[seenKey]bool{}
	for k, probe := range v.c.Probes {
		var err error
		m.EachAllowed(k, func(i, j int) {
			if err != nil || !policed[i] && !policed[j] {
				return
			}
			a, b := nodes[i], nodes[j]
			key := seenKey{a, b, probe}
			if v.seen[key] || reported[key] || v.r.DNS.isDNS(b, probe) || v.seenAsNode(ids[i], ids[j], a, b, probe) {
				return
			}
			res := v.eng.Evaluate(ids[i], ids[j], probe)
			if res.Egress.Reason == simulate.ResidentNode || res.Ingress.Reason == simulate.ResidentNode ||
				res.Egress.Reason == simulate.NotSubject && res.Ingress.Reason == simulate.NotSubject {
				return // no policy can decide these
			}
			if gen == nil {
				if gen, err = v.generatedOnly(); err != nil {
					err = fmt.Errorf("compiling the generated policies: %w", err)
					return
				}
			}
			f := Fault{From: display(a), To: display(b), Probe: probe,
				FromEndpoint: v.eng.Endpoint(ids[i]).ID(), ToEndpoint: v.eng.Endpoint(ids[j]).ID(), Reason: v.allowedBy(res)}
			alone, resident := v.allowedAlone(gen, f)
			if resident {
				return // a pod and its own node: always allowed
			}
			reported[key] = true
			if alone {
				v.c.add(&v.c.Unexpected, f)
			} else {
				v.c.add(&v.c.Existing, f)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// allowedAlone reports whether the generated policies alone allow f, and
// whether they do because one end is the other's node.
func (v *verifier) allowedAlone(gen *simulate.Engine, f Fault) (allowed, resident bool) {
	s, ok1 := gen.Lookup(f.FromEndpoint)
	d, ok2 := gen.Lookup(f.ToEndpoint)
	if !ok1 || !ok2 {
		return false, false
	}
	res := gen.Evaluate(s, d, f.Probe)
	return res.Verdict == simulate.Allowed, res.Egress.Reason == simulate.ResidentNode || res.Ingress.Reason == simulate.ResidentNode
}

// allowedBy names what allowed a connection, both ways: the rule
// ("shop/cart egress[0]") or the reason ("not isolated").
func (v *verifier) allowedBy(res simulate.Result) string {
	side := func(dir string, d simulate.Decision) string {
		if d.Reason == simulate.RuleMatched && d.Policy >= 0 {
			return dir + " by " + v.eng.Policies()[d.Policy].String() + " " + dir + "[" + strconv.Itoa(int(d.Rule)) + "]"
		}
		return dir + " " + d.Reason.String()
	}
	return side("egress", res.Egress) + "; " + side("ingress", res.Ingress)
}

// seenAsNode reports whether a connection between a hostNetwork endpoint,
// which acts as its node, and another endpoint was observed as one of the
// node's: with an address of the node (host, remote-node, the API server on
// a node, another hostNetwork workload of the node).
func (v *verifier) seenAsNode(i, j simulate.EndpointID, a, b graph.Node, probe netpol.Probe) bool {
	for _, ip := range v.eng.Endpoint(i).IPs {
		if v.eng.Endpoint(i).HostNetwork && v.seenAddr[addrKey{ip, b, probe, true}] {
			return true
		}
	}
	for _, ip := range v.eng.Endpoint(j).IPs {
		if v.eng.Endpoint(j).HostNetwork && v.seenAddr[addrKey{ip, a, probe, false}] {
			return true
		}
	}
	return false
}

// addrKey is an observed connection between an address (the source when
// from is set) and a workload.
type addrKey struct {
	addr  netip.Addr
	other graph.Node
	probe netpol.Probe
	from  bool
}

// indexAddrs records the addresses of the observed connections' ends that
// act as nodes: reserved identities and externals by their addresses
// (fromAddrs and toAddrs, see addrsFor), hostNetwork workloads by their
// pods'.
func (v *verifier) indexAddrs(e graph.Edge, probe netpol.Probe, fromAddrs, toAddrs []netip.Addr) {
	add := func(n, other graph.Node, source bool, nodeAddrs []netip.Addr) {
		var addrs []netip.Addr
		if w := v.inv.workloads[n]; w != nil && w.hostNetwork {
			for _, i := range w.endpoints {
				addrs = append(addrs, v.inv.endpoints[i].IPs...)
			}
		} else if !n.IsWorkload() {
			addrs = nodeAddrs
		}
		for _, a := range addrs {
			v.seenAddr[addrKey{a, other, probe, source}] = true
		}
	}
	add(e.From, e.To, true, fromAddrs)
	add(e.To, e.From, false, toAddrs)
}
