package diff_test

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/diff"
	nt "github.com/netpol/netpol/internal/netpoltest"
)

// part adds objects to a snapshot.
type part func(*netpol.Snapshot)

func cluster(parts ...part) *netpol.Snapshot {
	s := &netpol.Snapshot{}
	for _, p := range parts {
		p(s)
	}
	return s
}

func namespace(name, labels string) part {
	return func(s *netpol.Snapshot) { s.Namespaces = append(s.Namespaces, nt.Namespace(name, labels)) }
}

// pod adds a bare pod "ns/name" (see netpoltest.Pod).
func pod(id, labels, ip, ports string) part {
	return func(s *netpol.Snapshot) { s.Pods = append(s.Pods, nt.Pod(id, labels, ip, ports)) }
}

// hostPod adds a hostNetwork pod on node n at the node's address ip.
func hostPod(id, labels, node, ip, ports string) part {
	return func(s *netpol.Snapshot) {
		p := nt.Pod(id, labels, ip, ports)
		p.Spec.HostNetwork, p.Spec.NodeName = true, node
		s.Pods = append(s.Pods, p)
	}
}

// node adds a node with an address and a pod range.
func node(name, ip, podCIDR string) part {
	return func(s *netpol.Snapshot) {
		s.Nodes = append(s.Nodes, corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.NodeSpec{PodCIDR: podCIDR, PodCIDRs: []string{podCIDR}},
			Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}},
		})
	}
}

// deployment adds a Deployment "ns/name" with pod labels and ports, a
// ReplicaSet, and one pod per address, owned as the controllers own them;
// without addresses, the Deployment is a template. Pod i's extra labels
// (extra[i], "k=v,...") are added to its own.
func deployment(id, labels, ports string, ips []string, extra ...string) part {
	return func(s *netpol.Snapshot) {
		ns, name, _ := strings.Cut(id, "/")
		tmpl := nt.Pod(id, labels, "", ports)
		w := netpol.Workload{Kind: "Deployment", ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Selector: &metav1.LabelSelector{MatchLabels: nt.Labels(labels)}}
		w.Template.Labels, w.Template.Spec = nt.Labels(labels), tmpl.Spec
		s.Workloads = append(s.Workloads, w)
		if len(ips) == 0 {
			return
		}
		rs := w
		rs.Kind, rs.Name = "ReplicaSet", name+"-5d8f9"
		yes := true
		rs.OwnerReferences = []metav1.OwnerReference{{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment", Name: name, Controller: &yes}}
		s.Workloads = append(s.Workloads, rs)
		for i, ip := range ips {
			l := labels
			if i < len(extra) && extra[i] != "" {
				l += "," + extra[i]
			}
			p := nt.Pod(fmt.Sprintf("%s/%s-%c", ns, rs.Name, 'b'+i), l, ip, ports)
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, Controller: &yes}}
			s.Pods = append(s.Pods, p)
		}
	}
}

func policy(doc string) part {
	return func(s *netpol.Snapshot) { s.Policies = append(s.Policies, nt.Policy(doc)) }
}

// lines renders changes one a line: "x/a -> y/web TCP/8080 denied>allowed".
func lines(cs []diff.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s -> %s %s %s>%s", c.From, c.To, c.Probe, c.Before, c.After))
	}
	return out
}

// denyIngress is a policy denying all ingress in ns.
func denyIngress(ns string) part {
	return policy("metadata: {name: deny-ingress, namespace: \"" + ns + "\"}\nspec: {podSelector: {}, policyTypes: [Ingress]}")
}
