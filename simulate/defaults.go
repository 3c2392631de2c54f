package simulate

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Default fills in what the API server defaults on a networking.k8s.io/v1
// NetworkPolicy, in place, and normalises empty lists the way a round trip
// through the API server does:
//
//   - spec.policyTypes, when empty, becomes [Ingress], plus Egress when
//     spec.egress has at least one rule (SetDefaults_NetworkPolicy);
//   - every ports[].protocol that is nil becomes TCP
//     (SetDefaults_NetworkPolicyPort);
//   - empty but non-nil lists and maps of the spec (ingress: [], from: [],
//     ports: [], except: [], matchLabels: {}, matchExpressions: [], values:
//     []) become nil. The API server drops them when it stores the object
//     (they are omitempty), and they mean the same as absent ones: ingress:
//     [] is "no rules", from: [] is "every peer".
//
// Default leaves metadata alone: the namespace is the reader's business. It
// is idempotent, and a nil np is a no-op.
func Default(np *networkingv1.NetworkPolicy) {
	if np == nil {
		return
	}
	spec := &np.Spec
	spec.Ingress = nilIfEmpty(spec.Ingress)
	spec.Egress = nilIfEmpty(spec.Egress)
	spec.PolicyTypes = nilIfEmpty(spec.PolicyTypes)
	if len(spec.PolicyTypes) == 0 {
		// "Any policy that does not specify policyTypes implies at least
		// Ingress" (k8s.io/kubernetes pkg/apis/networking/v1/defaults.go).
		spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(spec.Egress) != 0 {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	normaliseSelector(&spec.PodSelector)
	for i := range spec.Ingress {
		r := &spec.Ingress[i]
		r.Ports = defaultPorts(r.Ports)
		r.From = normalisePeers(r.From)
	}
	for i := range spec.Egress {
		r := &spec.Egress[i]
		r.Ports = defaultPorts(r.Ports)
		r.To = normalisePeers(r.To)
	}
}

// defaultPorts sets a nil protocol to TCP and returns nil for an empty list.
func defaultPorts(ports []networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyPort {
	for i := range ports {
		if ports[i].Protocol == nil {
			tcp := corev1.ProtocolTCP
			ports[i].Protocol = &tcp
		}
	}
	return nilIfEmpty(ports)
}

// normalisePeers drops the empty lists inside peers and returns nil for an
// empty list.
func normalisePeers(peers []networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyPeer {
	for i := range peers {
		p := &peers[i]
		normaliseSelector(p.PodSelector)
		normaliseSelector(p.NamespaceSelector)
		if p.IPBlock != nil {
			p.IPBlock.Except = nilIfEmpty(p.IPBlock.Except)
		}
	}
	return nilIfEmpty(peers)
}

// normaliseSelector turns the empty lists and maps of s into nil. A nil s is
// a no-op; an empty selector stays a non-nil empty selector, since a nil and
// an empty peer selector mean different things.
func normaliseSelector(s *metav1.LabelSelector) {
	if s == nil {
		return
	}
	if len(s.MatchLabels) == 0 {
		s.MatchLabels = nil
	}
	s.MatchExpressions = nilIfEmpty(s.MatchExpressions)
	for i := range s.MatchExpressions {
		s.MatchExpressions[i].Values = nilIfEmpty(s.MatchExpressions[i].Values)
	}
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
