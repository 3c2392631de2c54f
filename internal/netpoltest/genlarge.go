package netpoltest

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// app is a workload of the realistic generator: its replicas share labels.
type app struct {
	ns, name, tier string
	ports          []corev1.ContainerPort
}

// tiers and the container ports of their pods.
var tierPorts = map[string][]corev1.ContainerPort{
	"frontend": {{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9100}},
	"backend":  {{Name: "grpc", ContainerPort: 9090}, {Name: "http", ContainerPort: 8000}, {Name: "metrics", ContainerPort: 9100}},
	"db":       {{Name: "postgres", ContainerPort: 5432}, {Name: "metrics", ContainerPort: 9187}},
	"cache":    {{Name: "redis", ContainerPort: 6379}},
	"worker":   {{Name: "metrics", ContainerPort: 9100}},
}

var (
	tiers     = []string{"frontend", "backend", "backend", "db", "cache", "worker"}
	teams     = []string{"payments", "search", "identity", "catalog", "platform", "data", "ml", "web", "mobile", "ops"}
	envs      = []string{"prod", "prod", "staging", "dev"}
	largeNode = 10 // nodes of the realistic cluster
)

// realistic fills g.s with a cluster of applications: a few system
// namespaces (DNS, monitoring, ingress), team namespaces of workloads whose
// replicas share labels, and mostly per-application allow policies on top
// of default denies, some across namespaces, some with ipBlocks.
func (g *gen) realistic() {
	system := []string{"kube-system", "monitoring", "ingress"}
	for i := 0; i < g.size.Namespaces; i++ {
		ns := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%02d", teams[i%len(teams)], i)}}
		ns.Labels = map[string]string{"team": teams[i%len(teams)], "env": pick(g, envs)}
		if i < len(system) {
			ns.Name, ns.Labels = system[i], map[string]string{"role": "system"}
		}
		g.s.Namespaces = append(g.s.Namespaces, ns)
	}
	if g.size.Cluster {
		for i := range largeNode {
			g.s.Nodes = append(g.s.Nodes, corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)},
				Spec:       corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.0.0/16", 64+i), PodCIDRs: []string{fmt.Sprintf("10.%d.0.0/16", 64+i)}},
				Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.16.0.%d", i+1)}}},
			})
		}
	}
	apps := g.systemApps()
	for len(g.s.Pods) < g.size.Pods {
		ns := g.s.Namespaces[min(len(system), len(g.s.Namespaces)-1)+g.r.IntN(max(1, len(g.s.Namespaces)-len(system)))].Name
		tier := pick(g, tiers)
		a := app{ns: ns, name: fmt.Sprintf("%s-%d", tier, len(apps)), tier: tier, ports: tierPorts[tier]}
		apps = append(apps, a)
		g.replicas(a, min(g.size.Pods-len(g.s.Pods), pick(g, []int{1, 2, 2, 3, 3, 4, 6, 10})))
	}
	if g.size.Cluster {
		g.clusterExtras(apps)
	}
	g.appPolicies(apps)
}

// systemApps adds DNS, Prometheus and the ingress controller.
func (g *gen) systemApps() []app {
	var apps []app
	add := func(ns, name, tier string, ports []corev1.ContainerPort, n int) {
		for _, x := range g.s.Namespaces {
			if x.Name == ns {
				a := app{ns: ns, name: name, tier: tier, ports: ports}
				apps = append(apps, a)
				g.replicas(a, n)
			}
		}
	}
	add("kube-system", "kube-dns", "dns", []corev1.ContainerPort{
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53}, {Name: "metrics", ContainerPort: 9153},
	}, 2)
	add("monitoring", "prometheus", "monitoring", []corev1.ContainerPort{{Name: "web", ContainerPort: 9090}}, 2)
	add("ingress", "ingress-nginx", "ingress", []corev1.ContainerPort{{Name: "http", ContainerPort: 80}, {Name: "https", ContainerPort: 443}}, 2)
	return apps
}

// replicas adds n pods of a, spread over the nodes, with addresses from
// their node's range.
func (g *gen) replicas(a app, n int) {
	hash := fmt.Sprintf("%x", g.r.Uint32()&0xfffff)
	version := pick(g, []string{"v1", "v1", "v2"})
	for i := range n {
		idx := len(g.s.Pods)
		node := idx % largeNode
		ip := netip.AddrFrom4([4]byte{10, byte(64 + node), byte(idx / largeNode >> 8), byte(idx / largeNode)})
		pod := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: a.ns, Name: fmt.Sprintf("%s-%s-%d", a.name, hash, i),
				Labels: map[string]string{"app": a.name, "tier": a.tier, "version": version, "pod-template-hash": hash},
			},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: a.name, Image: a.name, Ports: a.ports}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip.String(), PodIPs: []corev1.PodIP{{IP: ip.String()}}},
		}
		if g.size.Cluster {
			pod.Spec.NodeName = fmt.Sprintf("node-%d", node)
		}
		g.s.Pods = append(g.s.Pods, pod)
	}
}

// clusterExtras adds a hostNetwork node exporter per node and a few
// workloads without pods (templates).
func (g *gen) clusterExtras(apps []app) {
	for i, n := range g.s.Nodes {
		ip := n.Status.Addresses[0].Address
		g.s.Pods = append(g.s.Pods, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: fmt.Sprintf("node-exporter-%d", i), Labels: map[string]string{"app": "node-exporter"}},
			Spec: corev1.PodSpec{HostNetwork: true, NodeName: n.Name, Containers: []corev1.Container{{
				Name: "exporter", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}},
			}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}},
		})
	}
	for i := 0; i < len(apps)/100+1; i++ {
		a := pick(g, apps)
		w := netpol.Workload{Kind: "CronJob", ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: fmt.Sprintf("report-%d", i)}}
		w.Template.Labels = map[string]string{"app": w.Name, "tier": "worker"}
		w.Template.Spec.Containers = []corev1.Container{{Name: "job", Ports: tierPorts["worker"]}}
		g.s.Workloads = append(g.s.Workloads, w)
	}
}

// appPolicies adds exactly size.Policies policies: default denies first,
// then allow rules per application, round after round.
func (g *gen) appPolicies(apps []app) {
	add := func(np networkingv1.NetworkPolicy) bool {
		if len(g.s.Policies) >= g.size.Policies {
			return false
		}
		g.s.Policies = append(g.s.Policies, np)
		return true
	}
	for _, n := range g.s.Namespaces {
		if n.Labels["role"] == "system" {
			continue
		}
		if g.chance(0.9) && !add(denyAll(n.Name, networkingv1.PolicyTypeIngress)) {
			return
		}
		if g.chance(0.3) && (!add(denyAll(n.Name, networkingv1.PolicyTypeEgress)) || !add(allowDNS(n.Name))) {
			return
		}
	}
	for round := 0; len(apps) > 0; round++ {
		for _, a := range apps {
			if a.tier == "dns" || a.tier == "monitoring" || a.tier == "ingress" {
				continue
			}
			if !add(g.allowApp(a, round)) {
				return
			}
		}
	}
}

func denyAll(ns string, t networkingv1.PolicyType) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny-" + map[networkingv1.PolicyType]string{"Ingress": "ingress", "Egress": "egress"}[t]},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{t}},
	}
}

func allowDNS(ns string) networkingv1.NetworkPolicy {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-dns"},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{netpol.NamespaceNameLabel: "kube-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "kube-dns"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
			}},
		},
	}
}

// allowApp returns the allow policy of a for a round: who may call it, on
// which ports, plus metrics scraping, cross-namespace callers and egress to
// external ranges now and then.
func (g *gen) allowApp(a app, round int) networkingv1.NetworkPolicy {
	np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: fmt.Sprintf("allow-%s-%d", a.name, round)}}
	np.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app": a.name}}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	named := func(name string) []networkingv1.NetworkPolicyPort {
		p := intstr.FromString(name)
		return []networkingv1.NetworkPolicyPort{{Port: &p}}
	}
	var from networkingv1.NetworkPolicyIngressRule
	switch a.tier {
	case "frontend":
		from.From = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{netpol.NamespaceNameLabel: "ingress"}}}}
		from.Ports = named("http")
	case "backend":
		from.From = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}}}}
		from.Ports = named("grpc")
	case "db":
		from.From = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "backend"}}}}
		p, end := intstr.FromInt32(5432), int32(5433)
		from.Ports = []networkingv1.NetworkPolicyPort{{Port: &p, EndPort: &end}}
	case "cache":
		from.From = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"backend", "worker"}},
		}}}}
		from.Ports = named("redis")
	}
	if from.From != nil {
		np.Spec.Ingress = append(np.Spec.Ingress, from)
	}
	if g.chance(0.15) { // callers from another team's namespaces
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": pick(g, teams)}},
			PodSelector:       &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"db"}}}},
		}}})
	}
	if round == 0 && a.tier != "cache" {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{
			From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{netpol.NamespaceNameLabel: "monitoring"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "prometheus"}},
			}},
			Ports: named("metrics"),
		})
	}
	if g.chance(0.08) || a.tier == "worker" && g.chance(0.5) {
		tcp := corev1.ProtocolTCP
		https := intstr.FromInt32(443)
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8", "172.16.0.0/12"}}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &https}},
		}, {
			To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24"}}},
		}}
	}
	return np
}
