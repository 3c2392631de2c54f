package audit

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// selectorOf compiles a label selector with apimachinery semantics.
func selectorOf(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}

// emptySelector reports whether s is set and selects everything.
func emptySelector(s *metav1.LabelSelector) bool {
	return s != nil && len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

// selectorText writes a selector as kubectl's -l would: "{app=web}", "{}".
func selectorText(s *metav1.LabelSelector) string {
	sel, err := selectorOf(s)
	if err != nil || sel.Empty() {
		return "{}"
	}
	return "{" + sel.String() + "}"
}

// peerMatches reports whether a selector peer (not an ipBlock) of a policy
// in namespace ns matches the endpoint.
func peerMatches(ns string, p *networkingv1.NetworkPolicyPeer, ep *netpol.Endpoint) bool {
	if p.IPBlock != nil || !selectable(ep) {
		return false
	}
	if p.NamespaceSelector == nil && ep.Namespace != ns {
		return false
	}
	if p.NamespaceSelector != nil {
		sel, err := selectorOf(p.NamespaceSelector)
		if err != nil || !sel.Matches(labels.Set(ep.NamespaceLabels)) {
			return false
		}
	}
	if p.PodSelector != nil {
		sel, err := selectorOf(p.PodSelector)
		if err != nil || !sel.Matches(labels.Set(ep.Labels)) {
			return false
		}
	}
	return true
}

// direction is ingress or egress, with the field names of its rules.
type direction struct {
	name, peers string // "ingress", "from"
	egress      bool
}

var (
	ingress = direction{"ingress", "from", false}
	egress  = direction{"egress", "to", true}
)

// rules returns the rules of np for d as (peers, ports) pairs.
func (d direction) rules(np *networkingv1.NetworkPolicy) []rule {
	var out []rule
	if d.egress {
		for _, r := range np.Spec.Egress {
			out = append(out, rule{r.To, r.Ports})
		}
		return out
	}
	for _, r := range np.Spec.Ingress {
		out = append(out, rule{r.From, r.Ports})
	}
	return out
}

// applies reports whether p has policyType d.
func (d direction) applies(p *policyInfo) bool {
	if d.egress {
		return p.egress
	}
	return p.ingress
}

type rule struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

func (d direction) ruleField(i int) string { return fmt.Sprintf("spec.%s[%d]", d.name, i) }

func (d direction) peerField(i, j int) string {
	return fmt.Sprintf("spec.%s[%d].%s[%d]", d.name, i, d.peers, j)
}

// ownerObject returns the object a finding about an endpoint names: the
// top-level workload of a pod (its Deployment rather than its ReplicaSet),
// the workload of a template endpoint, or the pod itself.
func (a *auditor) ownerObject(ep *netpol.Endpoint) Object {
	if ep.Kind == netpol.EndpointTemplate {
		return Object{Kind: ep.WorkloadKind, Namespace: ep.Namespace, Name: ep.Name}
	}
	obj := Object{Kind: "Pod", Namespace: ep.Namespace, Name: ep.Name}
	refs := a.podOwners(ep.Namespace, ep.Name)
	for range 4 { // Pod <- ReplicaSet <- Deployment; Pod <- Job <- CronJob
		ref := controller(refs)
		if ref == nil {
			return obj
		}
		obj = Object{Kind: ref.Kind, Namespace: ep.Namespace, Name: ref.Name}
		refs = a.workloadOwners(ref.Kind, ep.Namespace, ref.Name)
	}
	return obj
}

// workloadKey identifies a workload of the snapshot.
type workloadKey struct{ kind, namespace, name string }

// workloadOwners returns the owner references of a workload of the
// snapshot; nil when the snapshot does not hold it.
func (a *auditor) workloadOwners(kind, ns, name string) []metav1.OwnerReference {
	if a.workloads == nil {
		a.workloads = map[workloadKey]*netpol.Workload{}
		for i := range a.snap.Workloads {
			w := &a.snap.Workloads[i]
			a.workloads[workloadKey{w.Kind, w.Namespace, w.Name}] = w // the last one wins, as a scan would
		}
	}
	if w, ok := a.workloads[workloadKey{kind, ns, name}]; ok {
		return w.OwnerReferences
	}
	return nil
}

func (a *auditor) podOwners(ns, name string) []metav1.OwnerReference {
	if a.pods == nil {
		a.pods = map[string]*corev1.Pod{}
		for i := range a.snap.Pods {
			p := &a.snap.Pods[i]
			a.pods[p.Namespace+"/"+p.Name] = p
		}
	}
	if p, ok := a.pods[ns+"/"+name]; ok {
		return p.OwnerReferences
	}
	return nil
}

// controller returns the controller reference, else the first one.
func controller(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	if len(refs) > 0 {
		return &refs[0]
	}
	return nil
}

// names lists up to three endpoint IDs, sorted, and how many more there
// are: "shop/a, shop/b, shop/c and 2 more".
func (a *auditor) names(ids []simulate.EndpointID) string {
	var s []string
	for _, id := range ids {
		s = append(s, a.eps[id].ID())
	}
	return list(s)
}

func list(s []string) string {
	s = slices.Clone(s)
	slices.Sort(s)
	s = slices.Compact(s)
	if len(s) > 3 {
		return strings.Join(s[:3], ", ") + fmt.Sprintf(" and %d more", len(s)-3)
	}
	return strings.Join(s, ", ")
}

// count says how many pods and workloads ids are: "1 pod", "2 pods and 1
// workload".
func (a *auditor) count(ids []simulate.EndpointID) string {
	pods := 0
	for _, id := range ids {
		if a.eps[id].Kind == netpol.EndpointPod {
			pods++
		}
	}
	var parts []string
	if pods > 0 {
		parts = append(parts, plural(pods, "pod"))
	}
	if len(ids) > pods {
		parts = append(parts, plural(len(ids)-pods, "workload"))
	}
	return strings.Join(parts, " and ")
}

// kinds names what ids are, in the plural: "pods", "workloads" or "pods
// and workloads".
func (a *auditor) kinds(ids []simulate.EndpointID) string {
	pods := 0
	for _, id := range ids {
		if a.eps[id].Kind == netpol.EndpointPod {
			pods++
		}
	}
	switch pods {
	case len(ids):
		return "pods"
	case 0:
		return "workloads"
	}
	return "pods and workloads"
}

// plural returns "1 pod" or "3 pods".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
