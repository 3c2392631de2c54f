package main

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kube-network-policies/pkg/api"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

// pure evaluates with networkpolicy.EvaluatePolicyDirection, called exactly
// as StandardNetworkPolicy.EvaluateEgress/EvaluateIngress call it, on
// policies selected the way getNetworkPoliciesForPod selects them.
type pure struct {
	cl       *cluster
	infos    []*api.PodInfo                  // index = endpoint; nil for externals
	policies [][]*networkingv1.NetworkPolicy // policies selecting each endpoint
	ctx      context.Context
}

func newPure(cl *cluster) (*pure, error) {
	p := &pure{cl: cl, ctx: context.Background()}
	byNS := map[string][]*networkingv1.NetworkPolicy{}
	selectors := map[*networkingv1.NetworkPolicy]labels.Selector{}
	for _, np := range cl.policies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", np.Namespace+"/"+np.Name, err)
		}
		selectors[np] = sel
		byNS[np.Namespace] = append(byNS[np.Namespace], np)
	}
	for _, pod := range cl.pods {
		if pod == nil {
			p.infos = append(p.infos, nil)
			p.policies = append(p.policies, nil)
			continue
		}
		p.infos = append(p.infos, api.NewPodInfo(pod, cl.c.NamespaceLabels[pod.Namespace], nil, ""))
		var selected []*networkingv1.NetworkPolicy
		for _, np := range byNS[pod.Namespace] {
			if selectors[np].Matches(labels.Set(pod.Labels)) {
				selected = append(selected, np)
			}
		}
		p.policies = append(p.policies, selected)
	}
	return p, nil
}

// Allowed implements scenario.Evaluator: egress of the source, then ingress
// of the destination, as PolicyEngine.EvaluatePacket does.
func (p *pure) Allowed(src, dst, probe int) (bool, error) {
	pr := p.cl.c.ProbeList[probe]
	proto := v1.Protocol(pr.Protocol)
	if pols := p.policies[src]; len(pols) > 0 &&
		!networkpolicy.EvaluatePolicyDirection(p.ctx, pols, networkingv1.PolicyTypeEgress,
			p.infos[src], srcPort, p.infos[dst], p.cl.ips[dst], pr.Port, proto) {
		return false, nil
	}
	if pols := p.policies[dst]; len(pols) > 0 &&
		!networkpolicy.EvaluatePolicyDirection(p.ctx, pols, networkingv1.PolicyTypeIngress,
			p.infos[dst], pr.Port, p.infos[src], p.cl.ips[src], srcPort, proto) {
		return false, nil
	}
	return true, nil
}
