package simulate

import "github.com/netpol/netpol"

var (
	sameEndpoint = Decision{Verdict: Allowed, Reason: SameEndpoint, Policy: -1, Rule: -1, Peer: -1}
	notSubject   = Decision{Verdict: Allowed, Reason: NotSubject, Policy: -1, Rule: -1, Peer: -1}
	notIsolated  = Decision{Verdict: Allowed, Reason: NotIsolated, Policy: -1, Rule: -1, Peer: -1}
	residentNode = Decision{Verdict: Allowed, Reason: ResidentNode, Policy: -1, Rule: -1, Peer: -1}
	noRule       = Decision{Verdict: Denied, Reason: NoRuleMatched, Policy: -1, Rule: -1, Peer: -1}
	unknown      = Decision{Policy: -1, Rule: -1, Peer: -1}
)

// Evaluate decides whether src may open a connection of probe p to dst: the
// source's egress and the destination's ingress must both allow it. A pod to
// itself is always allowed. An id out of range gives VerdictUnknown.
// Evaluate does not allocate.
func (e *Engine) Evaluate(src, dst EndpointID, p netpol.Probe) Result {
	if src < 0 || dst < 0 || int(src) >= len(e.classOf) || int(dst) >= len(e.classOf) {
		return Result{Egress: unknown, Ingress: unknown}
	}
	if src == dst {
		return Result{Verdict: Allowed, Egress: sameEndpoint, Ingress: sameEndpoint}
	}
	return e.evaluateClasses(&e.classes[e.classOf[src]], &e.classes[e.classOf[dst]], p)
}

func (e *Engine) evaluateClasses(sc, dc *class, p netpol.Probe) Result {
	r := Result{
		Egress:  e.decide(Egress, sc, dc, p),
		Ingress: e.decide(Ingress, dc, sc, p),
	}
	if r.Ingress.Verdict == Denied && sc.nodeish && dc.subject && sc.node != "" && sc.node == dc.node {
		r.Ingress = residentNode
	}
	r.Verdict = Denied
	if r.Egress.Verdict == Allowed && r.Ingress.Verdict == Allowed {
		r.Verdict = Allowed
	}
	return r
}

// decide evaluates one direction for subject (the destination for ingress,
// the source for egress) against the other side, peer. Named ports resolve
// on the destination.
func (e *Engine) decide(d Direction, subject, other *class, p netpol.Probe) Decision {
	if !subject.subject {
		return notSubject
	}
	pols, dst := subject.ingress, subject
	if d == Egress {
		pols, dst = subject.egress, other
	}
	if len(pols) == 0 {
		return notIsolated
	}
	for _, pi := range pols {
		rules := e.policies[pi].rules(d)
		for ri := range rules {
			r := &rules[ri]
			if !r.portAllowed(p, dst.ports) {
				continue
			}
			if r.allPeers {
				return Decision{Verdict: Allowed, Reason: RuleMatched, Policy: pi, Rule: int32(ri), Peer: -1}
			}
			for k, peer := range r.peers {
				if other.peers.has(int(peer)) {
					return Decision{Verdict: Allowed, Reason: RuleMatched, Policy: pi, Rule: int32(ri), Peer: int32(k)}
				}
			}
		}
	}
	return noRule
}
