package netpoltest

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// Reference is a slow, obviously-correct evaluator of networking.k8s.io/v1
// NetworkPolicy, written from the API documentation and independently of
// package simulate, so that simulate can be checked against it. It compiles
// nothing and caches nothing: every call re-reads the snapshot, does its own
// defaulting and looks every endpoint up again.
//
// Besides the API text, it implements the simulator's documented choices:
//
//   - a pod to itself is always allowed;
//   - hostNetwork pods are never selected by podSelectors or
//     namespaceSelectors, and act as their node: ipBlocks see their address,
//     named ports never resolve on them, and their traffic to a pod of their
//     node is "the pod's local node";
//   - ipBlock matches pod IPs (the primary one) unless IPBlockIgnoresPods;
//   - a template endpoint (a workload without pods) has no address yet and
//     matches an ipBlock only if the block holds every address pods can get
//     (the nodes' podCIDRs; without any, the block's whole address family)
//     with no except cutting into them, and never when IPBlockIgnoresPods.
//
// The policies are assumed valid (simulate.Compile rejects the others).
type Reference struct {
	Snapshot *netpol.Snapshot
	// IPBlockIgnoresPods makes ipBlocks match only externals and node
	// addresses, never pods or templates.
	IPBlockIgnoresPods bool
	// Match matches label selectors; nil means MatchAPI. CyclonusMatcher
	// reproduces cyclonus's bugs.
	Match LabelMatcher
}

// side is an endpoint as the reference sees it, read from the snapshot.
type side struct {
	selectable bool // podSelectors and namespaceSelectors can select it
	template   bool // a selectable template: no address yet
	namespace  string
	labels     map[string]string
	nsLabels   map[string]string
	addr       netip.Addr    // what ipBlocks see; invalid when none
	ports      []netpol.Port // where named ports resolve; nil for non-pods
	runsOn     string        // the node a selectable pod runs on
	nodeOf     string        // the node this endpoint is an address of
}

// Allowed reports whether src may connect to dst with probe p. The API text:
// for ingress, "Traffic is allowed to a pod if there are no NetworkPolicies
// selecting the pod (and cluster policy otherwise allows the traffic), OR if
// the traffic source is the pod's local node, OR if the traffic matches at
// least one ingress rule across all of the NetworkPolicy objects whose
// podSelector matches the pod"; for egress, "Outgoing traffic is allowed if
// there are no NetworkPolicies selecting the pod (and cluster policy
// otherwise allows the traffic), OR if the traffic matches at least one
// egress rule across all of the NetworkPolicy objects whose podSelector
// matches the pod". A connection needs both.
func (r *Reference) Allowed(src, dst netpol.Endpoint, p netpol.Probe) bool {
	if src.Kind == dst.Kind && src.ID() == dst.ID() {
		return true // a pod cannot block access to itself
	}
	s, d := r.side(src), r.side(dst)
	return r.egressAllows(s, d, p) && r.ingressAllows(s, d, p)
}

func (r *Reference) egressAllows(s, d *side, p netpol.Probe) bool {
	if !s.selectable {
		return true // externals and nodes are not subject to NetworkPolicy
	}
	isolated := false
	for i := range r.Snapshot.Policies {
		np := &r.Snapshot.Policies[i]
		if !r.selects(np, s, networkingv1.PolicyTypeEgress) {
			continue
		}
		isolated = true
		for _, rule := range np.Spec.Egress {
			if r.portsMatch(rule.Ports, p, d) && r.peersMatch(rule.To, np.Namespace, d) {
				return true
			}
		}
	}
	// The concepts page: "traffic to and from the node where a Pod is
	// running is always allowed, regardless of the IP address of the Pod or
	// the node".
	return !isolated || (s.runsOn != "" && d.nodeOf == s.runsOn)
}

func (r *Reference) ingressAllows(s, d *side, p netpol.Probe) bool {
	if !d.selectable {
		return true
	}
	isolated := false
	for i := range r.Snapshot.Policies {
		np := &r.Snapshot.Policies[i]
		if !r.selects(np, d, networkingv1.PolicyTypeIngress) {
			continue
		}
		isolated = true
		for _, rule := range np.Spec.Ingress {
			if r.portsMatch(rule.Ports, p, d) && r.peersMatch(rule.From, np.Namespace, s) {
				return true
			}
		}
	}
	// "OR if the traffic source is the pod's local node".
	return !isolated || (d.runsOn != "" && s.nodeOf == d.runsOn)
}

// selects reports whether np applies to x for direction t. "podSelector
// selects the pods to which this NetworkPolicy object applies ... An empty
// selector matches all pods in the policy's namespace."
func (r *Reference) selects(np *networkingv1.NetworkPolicy, x *side, t networkingv1.PolicyType) bool {
	if np.Namespace != x.namespace || !x.selectable {
		return false
	}
	found := false
	for _, pt := range policyTypes(np) {
		found = found || pt == t
	}
	return found && r.match(&np.Spec.PodSelector, x.labels)
}

// policyTypes defaults spec.policyTypes: "If this field is not specified, it
// will default based on the existence of ingress or egress rules; policies
// that contain an egress section are assumed to affect egress, and all
// policies (whether or not they contain an ingress section) are assumed to
// affect ingress." An empty egress list is no egress section: the API
// server's defaulting tests len(spec.egress).
func policyTypes(np *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(np.Spec.PolicyTypes) > 0 {
		return np.Spec.PolicyTypes
	}
	out := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(np.Spec.Egress) > 0 {
		out = append(out, networkingv1.PolicyTypeEgress)
	}
	return out
}

// portsMatch: "If this field is empty or missing, this rule matches all
// ports (traffic not restricted by port). If this field is present and
// contains at least one item, then this rule allows traffic only if the
// traffic matches at least one port in the list." d is the destination.
func (r *Reference) portsMatch(ports []networkingv1.NetworkPolicyPort, p netpol.Probe, d *side) bool {
	if len(ports) == 0 {
		return true
	}
	for i := range ports {
		if portMatches(&ports[i], p, d) {
			return true
		}
	}
	return false
}

// portMatches applies one NetworkPolicyPort: "protocol represents the
// protocol (TCP, UDP, or SCTP) which traffic must match. If not specified,
// this field defaults to TCP." "port represents the port on the given
// protocol. This can either be a numerical or named port on a pod. If this
// field is not provided, this matches all port names and numbers. If
// present, only traffic on the specified protocol AND port will be matched."
// "endPort indicates that the range of ports from port to endPort if set,
// inclusive, should be allowed by the policy."
func portMatches(pp *networkingv1.NetworkPolicyPort, p netpol.Probe, d *side) bool {
	proto := corev1.ProtocolTCP
	if pp.Protocol != nil {
		proto = *pp.Protocol
	}
	if string(proto) != p.Protocol.String() {
		return false
	}
	switch {
	case pp.Port == nil:
		return true
	case pp.Port.Type == intstr.String:
		// A named port "on a pod": the destination pod's container port of
		// that name, which must be the probe's protocol and number.
		for _, cp := range d.ports {
			if cp.Name == pp.Port.StrVal && cp.Protocol == p.Protocol && cp.Port == p.Port {
				return true
			}
		}
		return false
	}
	lo, hi := int(pp.Port.IntVal), int(pp.Port.IntVal)
	if pp.EndPort != nil {
		hi = int(*pp.EndPort)
	}
	return lo <= int(p.Port) && int(p.Port) <= hi
}

// peersMatch: "If this field is empty or missing, this rule matches all
// sources [destinations] (traffic not restricted by source). If this field
// is present and contains at least one item, this rule allows traffic only
// if the traffic matches at least one item in the from [to] list."
func (r *Reference) peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, x *side) bool {
	if len(peers) == 0 {
		return true
	}
	for i := range peers {
		if r.peerMatches(&peers[i], policyNS, x) {
			return true
		}
	}
	return false
}

// peerMatches applies one NetworkPolicyPeer to x.
func (r *Reference) peerMatches(pr *networkingv1.NetworkPolicyPeer, policyNS string, x *side) bool {
	switch {
	case pr.IPBlock != nil:
		// "ipBlock defines policy on a particular IPBlock. If this field is
		// set then neither of the other fields can be."
		return r.ipBlockMatches(pr.IPBlock, x)
	case !x.selectable:
		return false
	case pr.PodSelector != nil && pr.NamespaceSelector != nil:
		// "If namespaceSelector is also set, then the NetworkPolicyPeer as a
		// whole selects the pods matching podSelector in the Namespaces
		// selected by NamespaceSelector."
		return r.match(pr.NamespaceSelector, x.nsLabels) && r.match(pr.PodSelector, x.labels)
	case pr.PodSelector != nil:
		// "Otherwise it selects the pods matching podSelector in the
		// policy's own namespace."
		return x.namespace == policyNS && r.match(pr.PodSelector, x.labels)
	case pr.NamespaceSelector != nil:
		// "Otherwise it selects all pods in the namespaces selected by
		// namespaceSelector." ("if present but empty, it selects all
		// namespaces").
		return r.match(pr.NamespaceSelector, x.nsLabels)
	}
	return false
}

// ipBlockMatches: "IPBlock describes a particular CIDR ... The except entry
// describes CIDRs that should not be included within this rule."
func (r *Reference) ipBlockMatches(b *networkingv1.IPBlock, x *side) bool {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return false
	}
	cidr = cidr.Masked()
	var except []netip.Prefix
	for _, e := range b.Except {
		if px, err := netip.ParsePrefix(e); err == nil {
			except = append(except, px.Masked())
		}
	}
	switch {
	case x.selectable && r.IPBlockIgnoresPods:
		return false
	case x.template:
		return r.holdsEveryPodAddress(cidr, except)
	case !x.addr.IsValid() || !cidr.Contains(x.addr):
		return false
	}
	for _, e := range except {
		if e.Contains(x.addr) {
			return false
		}
	}
	return true
}

// holdsEveryPodAddress reports whether cidr minus except holds every address
// of the cluster's pod ranges of cidr's family (and there is at least one).
func (r *Reference) holdsEveryPodAddress(cidr netip.Prefix, except []netip.Prefix) bool {
	var ranges []netip.Prefix
	for _, n := range r.Snapshot.Nodes {
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			if px, err := netip.ParsePrefix(c); err == nil {
				ranges = append(ranges, px.Masked())
			}
		}
	}
	if len(ranges) == 0 {
		ranges = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	found := false
	for _, pr := range ranges {
		if pr.Addr().Is4() != cidr.Addr().Is4() {
			continue
		}
		found = true
		if pr.Bits() < cidr.Bits() || !cidr.Contains(pr.Addr()) {
			return false
		}
		for _, e := range except {
			if e.Overlaps(pr) {
				return false
			}
		}
	}
	return found
}

// match applies r.Match, or MatchAPI.
func (r *Reference) match(sel *metav1.LabelSelector, set map[string]string) bool {
	if r.Match == nil {
		return MatchAPI(sel, set)
	}
	return r.Match(sel, set)
}
