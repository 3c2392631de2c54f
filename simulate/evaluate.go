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
	r := e.evaluateClasses(&e.classes[e.classOf[src]], &e.classes[e.classOf[dst]], p)
	if r.Verdict == Denied {
		toPod, fromPod := e.residentPair(src, dst)
		if toPod && r.Ingress.Verdict == Denied {
			r.Ingress = residentNode
		}
		if fromPod && r.Egress.Verdict == Denied {
			r.Egress = residentNode
		}
		if r.Egress.Verdict == Allowed && r.Ingress.Verdict == Allowed {
			r.Verdict = Allowed
		}
	}
	return r
}

func (e *Engine) evaluateClasses(sc, dc *class, p netpol.Probe) Result {
	r := Result{
		Egress:  e.decide(Egress, sc, dc, p),
		Ingress: e.decide(Ingress, dc, sc, p),
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
	refs, isolated, dst := subject.inRules, len(subject.ingress) > 0, subject
	if d == Egress {
		refs, isolated, dst = subject.egRules, len(subject.egress) > 0, other
	}
	if !isolated {
		return notIsolated
	}
	for i := range refs {
		ref := &refs[i]
		r := ref.r
		if !r.portAllowed(p, dst.ports) {
			continue
		}
		if r.allPeers {
			return Decision{Verdict: Allowed, Reason: RuleMatched, Policy: ref.policy, Rule: ref.rule, Peer: -1}
		}
		for k, peer := range r.peers {
			if other.peers.has(int(peer)) {
				return Decision{Verdict: Allowed, Reason: RuleMatched, Policy: ref.policy, Rule: ref.rule, Peer: int32(k)}
			}
		}
	}
	return noRule
}

// ruleRef is a rule of a policy that selects a class, flattened for the
// evaluation loop.
type ruleRef struct {
	policy, rule int32
	r            *rule
}

// flattenRules lists the rules of the policies pols for direction d, in
// evaluation order.
func (e *Engine) flattenRules(pols []int32, d Direction) []ruleRef {
	var out []ruleRef
	for _, pi := range pols {
		rules := e.policies[pi].rules(d)
		for ri := range rules {
			out = append(out, ruleRef{policy: pi, rule: int32(ri), r: &rules[ri]})
		}
	}
	return out
}
