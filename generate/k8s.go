package generate

import (
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// networkPolicy renders p as a NetworkPolicy, checked as the API server
// would check it.
func (p *policyPlan) networkPolicy() (networkingv1.NetworkPolicy, error) {
	np := networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: p.objectMeta(),
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: p.selector}},
	}
	if p.isolateIngress {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
	}
	if p.isolateEgress {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	}
	ev := map[string][]Evidence{}
	for i, r := range p.k8sRules(p.ingress) {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: r.peers, Ports: r.ports})
		ev[fmt.Sprintf("ingress-%d", i)] = r.evidence
	}
	for i, r := range p.k8sRules(p.egress) {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: r.peers, Ports: r.ports})
		ev[fmt.Sprintf("egress-%d", i)] = r.evidence
	}
	setEvidence(np.Annotations, ev)
	if len(np.Annotations) == 0 {
		np.Annotations = nil
	}
	if err := simulate.Validate(&np); err != nil {
		return np, err
	}
	return np, nil
}

func (p *policyPlan) objectMeta() metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: p.name, Namespace: p.namespace,
		Labels: map[string]string{ManagedByLabel: ManagedByValue}, Annotations: map[string]string{}}
	if !p.window.IsZero() {
		m.Annotations[WindowAnnotation] = p.window.First.UTC().Format(time.RFC3339) + "/" + p.window.Last.UTC().Format(time.RFC3339)
	}
	if p.kind == kindWorkload {
		m.Annotations[WorkloadAnnotation] = string(p.workload.Kind) + " " + p.workload.String()
	}
	if len(p.notes) > 0 {
		m.Annotations[NoteAnnotation] = strings.Join(p.notes, "\n")
	}
	return m
}

// k8sRule is a rule in NetworkPolicy form, with its evidence.
type k8sRule struct {
	peers    []networkingv1.NetworkPolicyPeer
	ports    []networkingv1.NetworkPolicyPort
	evidence []Evidence
}

// k8sRules renders rules; a rule whose peers all lack a NetworkPolicy form
// (an entity without addresses) is left out.
func (p *policyPlan) k8sRules(rules []*rulePlan) []k8sRule {
	var out []k8sRule
	for _, r := range rules {
		var kr k8sRule
		for _, pe := range r.peers {
			kr.peers = append(kr.peers, p.k8sPeers(pe)...)
		}
		if len(kr.peers) == 0 && len(r.peers) > 0 {
			continue
		}
		for _, ps := range r.ports {
			kr.ports = append(kr.ports, ps.k8s())
		}
		kr.evidence = r.evidence
		out = append(out, kr)
	}
	return out
}

// k8sPeers renders one peer: a podSelector (with the namespace's name when
// it is another namespace), or ipBlocks.
func (p *policyPlan) k8sPeers(pe *peer) []networkingv1.NetworkPolicyPeer {
	switch pe.kind {
	case peerPods:
		if pe.anyNamespace {
			return []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
		}
		out := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: maps.Clone(pe.labels)}}
		if pe.namespace != p.namespace {
			out.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{netpol.NamespaceNameLabel: pe.namespace}}
		}
		return []networkingv1.NetworkPolicyPeer{out}
	}
	var out []networkingv1.NetworkPolicyPeer
	for _, pr := range pe.prefixes {
		out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: pr.String()}})
	}
	return out
}

func (ps portSpec) k8s() networkingv1.NetworkPolicyPort {
	proto := corev1.Protocol(ps.protocol.String())
	out := networkingv1.NetworkPolicyPort{Protocol: &proto}
	port := intstr.FromInt32(int32(ps.port))
	if ps.name != "" {
		port = intstr.FromString(ps.name)
	}
	out.Port = &port
	if ps.end > ps.port {
		end := int32(ps.end)
		out.EndPort = &end
	}
	return out
}

// maxAnnotations is the budget of a policy's annotations, well under the
// API server's limit of 256 KiB: evidence lines are cut to fit.
const maxAnnotations = 128 << 10

// evidenceLimits are the most evidence lines per rule, tried in turn until
// the annotations fit; the rest of a rule's evidence is counted.
var evidenceLimits = []int{40, 10, 3, 1, 0}

// setEvidence writes each rule's evidence annotation (key -> evidence):
// one line per peer and port, "PEER PROTO/PORT: N flows, first T, last
// T", as many lines per rule as fit in maxAnnotations.
func setEvidence(ann map[string]string, ev map[string][]Evidence) {
	base := 0
	for k, v := range ann {
		base += len(k) + len(v)
	}
	for _, limit := range evidenceLimits {
		out := map[string]string{}
		size := base
		for key, list := range ev {
			if len(list) == 0 {
				continue
			}
			var lines []string
			for i, e := range list {
				if i == limit {
					lines = append(lines, fmt.Sprintf("... and %d more", len(list)-limit))
					break
				}
				lines = append(lines, e.String())
			}
			out[EvidencePrefix+key] = strings.Join(lines, "\n")
			size += len(EvidencePrefix) + len(key) + len(out[EvidencePrefix+key])
		}
		if size <= maxAnnotations || limit == 0 {
			for k, v := range out {
				ann[k] = v
			}
			return
		}
	}
}

// String renders e as "shop/web TCP/8080: 42 flows, first
// 2024-05-01T12:00:00Z, last 2024-05-01T13:00:00Z".
func (e Evidence) String() string {
	flows := "1 flow"
	if e.Count != 1 {
		flows = fmt.Sprintf("%d flows", e.Count)
	}
	return fmt.Sprintf("%s %s: %s, first %s, last %s", e.Peer, probeText(e.Probe), flows,
		e.FirstSeen.UTC().Format(time.RFC3339), e.LastSeen.UTC().Format(time.RFC3339))
}

// ruleReports returns the evidence of p's rules as rendered.
func (p *policyPlan) ruleReports() []Rule {
	var out []Rule
	for i, r := range p.k8sRules(p.ingress) {
		out = append(out, Rule{Direction: "ingress", Index: i, Evidence: r.evidence})
	}
	for i, r := range p.k8sRules(p.egress) {
		out = append(out, Rule{Direction: "egress", Index: i, Evidence: r.evidence})
	}
	return out
}
