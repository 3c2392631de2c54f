package main

import (
	"fmt"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	"github.com/netpol/netpol/test/oracles/scenario"
	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cyclonusMatcher evaluates tuples with matcher.Policy.IsTrafficAllowed.
type cyclonusMatcher struct {
	c      *scenario.Case
	policy *matcher.Policy
	peers  []*matcher.TrafficPeer // index = endpoint
}

// newMatcher builds the cyclonus policy. simplify=false is the faithful
// choice: BuildNetworkPolicies then keeps one matcher per rule peer, while
// Simplify merges and subtracts port matchers (with TODOs in cyclonus itself).
func newMatcher(c *scenario.Case, simplify bool) (*cyclonusMatcher, error) {
	var nps []*networkingv1.NetworkPolicy
	for i, raw := range c.Policies {
		np := &networkingv1.NetworkPolicy{}
		if err := scenario.DecodeStrict(raw, np); err != nil {
			return nil, fmt.Errorf("policies[%d]: %w", i, err)
		}
		if err := checkSelectors(np); err != nil {
			return nil, fmt.Errorf("policy %q: %w", np.Namespace+"/"+np.Name, err)
		}
		nps = append(nps, np)
	}
	m := &cyclonusMatcher{c: c, policy: matcher.BuildNetworkPolicies(simplify, nps)}
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		// IP is set for pods too, so that ipBlock peers match pod IPs.
		peer := &matcher.TrafficPeer{IP: ep.IP.String()}
		if !ep.External() {
			peer.Internal = &matcher.InternalPeer{
				PodLabels:       ep.Pod.Labels,
				NamespaceLabels: c.NamespaceLabels[ep.Pod.Namespace],
				Namespace:       ep.Pod.Namespace,
			}
		}
		m.peers = append(m.peers, peer)
	}
	return m, nil
}

// Allowed implements scenario.Evaluator. The named port is resolved on the
// destination pod: the name of its container port with the probe's number
// and protocol ("" for externals or when there is none).
func (m *cyclonusMatcher) Allowed(src, dst, probe int) (bool, error) {
	p := m.c.ProbeList[probe]
	name := ""
	if pod := m.c.Endpoints[dst].Pod; pod != nil {
		name = scenario.PortName(pod, p)
	}
	res := m.policy.IsTrafficAllowed(&matcher.Traffic{
		Source:           m.peers[src],
		Destination:      m.peers[dst],
		ResolvedPort:     p.Port,
		ResolvedPortName: name,
		Protocol:         v1.Protocol(p.Protocol),
	})
	return res.IsAllowed(), nil
}

// checkSelectors rejects selectors that do not parse and operators that
// cyclonus would panic on.
func checkSelectors(np *networkingv1.NetworkPolicy) error {
	sels := []*metav1.LabelSelector{&np.Spec.PodSelector}
	for _, r := range np.Spec.Ingress {
		for _, p := range r.From {
			sels = append(sels, p.PodSelector, p.NamespaceSelector)
		}
	}
	for _, r := range np.Spec.Egress {
		for _, p := range r.To {
			sels = append(sels, p.PodSelector, p.NamespaceSelector)
		}
	}
	for _, s := range sels {
		if s == nil {
			continue
		}
		if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
			return fmt.Errorf("invalid label selector: %w", err)
		}
	}
	return nil
}
