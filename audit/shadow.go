package audit

import (
	"fmt"
	"net/netip"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol/simulate"
)

// checkShadowed reports a rule when a rule of a policy that selects at
// least the same pods, for the same direction, allows at least every
// connection it allows. The comparison is syntactic and conservative: a
// selector covers another only when its requirements are a subset of the
// other's, each peer must be covered by a single peer, each port by a
// single port, and an ipBlock never covers a selector peer (nor the
// reverse). So every rule reported is truly redundant; some redundant rules
// (covered only by a union of peers) are not reported.
func checkShadowed(a *auditor, c *check) {
	type ref struct {
		policy, rule int
		r            rule
	}
	for _, d := range []direction{ingress, egress} {
		byNS := map[string][]ref{}
		for pi, p := range a.pols {
			if !d.applies(p) {
				continue
			}
			for ri, r := range d.rules(p.np) {
				byNS[p.np.Namespace] = append(byNS[p.np.Namespace], ref{pi, ri, r})
			}
		}
		for _, refs := range byNS {
			for _, x := range refs {
				for _, y := range refs {
					if x.policy == y.policy && x.rule == y.rule || !a.shadows(y.policy, y.r, x.policy, x.r) {
						continue
					}
					// Of two equivalent rules, report the later one only.
					if a.shadows(x.policy, x.r, y.policy, y.r) && (x.policy < y.policy || x.policy == y.policy && x.rule < y.rule) {
						continue
					}
					p, q := a.pols[x.policy], a.pols[y.policy]
					a.add(c, Finding{
						Object: p.object(),
						Field:  d.ruleField(x.rule),
						Message: fmt.Sprintf("every connection this rule allows is also allowed by %s %s, whose policy selects at least the same pods",
							q.id(), d.ruleField(y.rule)),
						Fix: "delete the redundant rule; if the broader rule allows more than intended, narrow it instead",
					})
					break
				}
			}
		}
	}
}

// shadows reports whether rule b of policy pb allows every connection that
// rule a of policy pa allows, for pods of pa that pb selects too.
func (a *auditor) shadows(pb int, b rule, pa int, ra rule) bool {
	pB, pA := a.pols[pb].np, a.pols[pa].np
	if !a.selectorCovers(&pB.Spec.PodSelector, &pA.Spec.PodSelector) {
		return false
	}
	return a.peersCover(pB.Namespace, b.peers, ra.peers) && portsCover(b.ports, ra.ports)
}

// selectorCovers reports whether outer selects every set of labels that
// inner selects, because inner has every requirement outer has. Nil
// selectors are not compared (false).
func (a *auditor) selectorCovers(outer, inner *metav1.LabelSelector) bool {
	if outer == nil || inner == nil {
		return false
	}
	oreqs, ok1 := a.requirements(outer)
	ireqs, ok2 := a.requirements(inner)
	if !ok1 || !ok2 {
		return false
	}
	for _, r := range oreqs {
		if !slices.Contains(ireqs, r) {
			return false
		}
	}
	return true
}

// requirements returns the requirements of a selector of the policies, as
// text, computed once per selector.
func (a *auditor) requirements(s *metav1.LabelSelector) ([]string, bool) {
	if reqs, ok := a.reqs[s]; ok {
		return reqs, reqs != nil
	}
	var out []string
	if sel, err := selectorOf(s); err == nil {
		rs, _ := sel.Requirements()
		out = []string{}
		for _, r := range rs {
			out = append(out, requirementText(r))
		}
	}
	if a.reqs == nil {
		a.reqs = map[*metav1.LabelSelector][]string{}
	}
	a.reqs[s] = out
	return out, out != nil
}

// requirementText writes a requirement so that equal ones read the same:
// "k in (v)" is "k=v".
func requirementText(r labels.Requirement) string {
	if r.Operator() == selection.In && r.Values().Len() == 1 {
		return r.Key() + "=" + r.Values().List()[0]
	}
	return r.String()
}

// peersCover reports whether every peer of inner is covered by one peer of
// outer; a rule without peers matches every peer.
func (a *auditor) peersCover(ns string, outer, inner []networkingv1.NetworkPolicyPeer) bool {
	if len(outer) == 0 {
		return true
	}
	if len(inner) == 0 {
		return false
	}
	for i := range inner {
		if !slices.ContainsFunc(outer, func(o networkingv1.NetworkPolicyPeer) bool { return a.peerCovers(ns, &o, &inner[i]) }) {
			return false
		}
	}
	return true
}

// peerCovers reports whether peer o matches everything peer i matches, for
// peers of policies of namespace ns.
func (a *auditor) peerCovers(ns string, o, i *networkingv1.NetworkPolicyPeer) bool {
	if o.IPBlock != nil || i.IPBlock != nil {
		return o.IPBlock != nil && i.IPBlock != nil && blockCovers(o.IPBlock, i.IPBlock)
	}
	switch {
	case o.NamespaceSelector == nil && i.NamespaceSelector != nil:
		return false // o: this namespace only
	case o.NamespaceSelector != nil && i.NamespaceSelector == nil:
		// i: this namespace only; o must select it.
		sel, err := selectorOf(o.NamespaceSelector)
		if err != nil || !sel.Matches(labels.Set(a.nsLabels(ns))) {
			return false
		}
	case o.NamespaceSelector != nil && !a.selectorCovers(o.NamespaceSelector, i.NamespaceSelector):
		return false
	}
	if o.PodSelector == nil || emptySelector(o.PodSelector) {
		return true
	}
	return a.selectorCovers(o.PodSelector, i.PodSelector)
}

func (a *auditor) nsLabels(ns string) map[string]string {
	if a.namespaceLabels == nil {
		a.namespaceLabels = a.snap.NamespaceLabels()
	}
	return a.namespaceLabels[ns]
}

// blockCovers reports whether ipBlock o holds every address of ipBlock i:
// i's cidr inside o's, and each of o's excepts either outside i's cidr or
// inside one of i's excepts.
func blockCovers(o, i *networkingv1.IPBlock) bool {
	oc, err1 := simulate.ParseIPBlockCIDR(o.CIDR)
	ic, err2 := simulate.ParseIPBlockCIDR(i.CIDR)
	if err1 != nil || err2 != nil || !prefixContains(oc, ic) {
		return false
	}
	var iex []netip.Prefix
	for _, s := range i.Except {
		if p, err := simulate.ParseIPBlockCIDR(s); err == nil {
			iex = append(iex, p)
		}
	}
	for _, s := range o.Except {
		x, err := simulate.ParseIPBlockCIDR(s)
		if err != nil {
			return false
		}
		if x.Overlaps(ic) && !slices.ContainsFunc(iex, func(y netip.Prefix) bool { return prefixContains(y, x) }) {
			return false
		}
	}
	return true
}

// prefixContains reports whether every address of inner is in outer.
func prefixContains(outer, inner netip.Prefix) bool {
	return outer.Addr().Is4() == inner.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// portsCover reports whether every port of inner is covered by one port of
// outer; a rule without ports matches every port.
func portsCover(outer, inner []networkingv1.NetworkPolicyPort) bool {
	if len(outer) == 0 {
		return true
	}
	if len(inner) == 0 {
		return false
	}
	for i := range inner {
		if !slices.ContainsFunc(outer, func(o networkingv1.NetworkPolicyPort) bool { return portCovers(&o, &inner[i]) }) {
			return false
		}
	}
	return true
}

func portCovers(o, i *networkingv1.NetworkPolicyPort) bool {
	if protocol(o) != protocol(i) {
		return false
	}
	switch {
	case o.Port == nil:
		return true
	case i.Port == nil || o.Port.Type != i.Port.Type:
		return false
	case o.Port.Type == intstr.String:
		return o.Port.StrVal == i.Port.StrVal
	}
	ofirst, olast := portRange(o)
	ifirst, ilast := portRange(i)
	return ofirst <= ifirst && ilast <= olast
}

func protocol(p *networkingv1.NetworkPolicyPort) string {
	if p.Protocol == nil {
		return "TCP"
	}
	return string(*p.Protocol)
}

func portRange(p *networkingv1.NetworkPolicyPort) (int32, int32) {
	if p.EndPort != nil {
		return p.Port.IntVal, *p.EndPort
	}
	return p.Port.IntVal, p.Port.IntVal
}
