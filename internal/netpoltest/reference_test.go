package netpoltest_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
)

// refCluster is the hand-made cluster of the reference's own tests:
//
//	x (team=red):  a app=a 10.0.0.1 http:80/TCP, node n2
//	               b app=b,tier= 10.0.0.2 dns:53/UDP
//	               s app=s 10.0.0.5 on n1; sidecar metrics:9000/SCTP,
//	                 ordinary init container init-http:80/UDP
//	               deployment w (no pods) app=w http:80/TCP
//	y (team=blue): c (no labels) fd00::3 http:8080/TCP
//	               h hostNetwork on n1 (172.16.0.1)
//	node n1: 172.16.0.1, podCIDR 10.0.0.0/16
func refCluster() *netpol.Snapshot {
	a := nt.Pod("x/a", "app=a", "10.0.0.1", "http:80/TCP")
	a.Spec.NodeName = "n2"
	s := nt.Pod("x/s", "app=s", "10.0.0.5", "")
	s.Spec.NodeName = "n1"
	always := corev1.ContainerRestartPolicyAlways
	s.Spec.InitContainers = []corev1.Container{
		{Name: "init", Ports: []corev1.ContainerPort{{Name: "init-http", ContainerPort: 80, Protocol: corev1.ProtocolUDP}}},
		{Name: "sidecar", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9000, Protocol: corev1.ProtocolSCTP}}},
	}
	h := nt.Pod("y/h", "app=h", "172.16.0.1", "")
	h.Spec.HostNetwork, h.Spec.NodeName = true, "n1"
	w := netpol.Workload{Kind: "Deployment", ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: "w"}}
	w.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "w"}}
	w.Template.Labels = map[string]string{"app": "w"}
	w.Template.Spec.Containers = []corev1.Container{{Name: "w", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}}}
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{PodCIDRs: []string{"10.0.0.0/16"}}}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.16.0.1"}}
	return &netpol.Snapshot{
		Namespaces: []corev1.Namespace{nt.Namespace("x", "team=red"), nt.Namespace("y", "team=blue")},
		Nodes:      []corev1.Node{node},
		Pods:       []corev1.Pod{a, nt.Pod("x/b", "app=b,tier=", "10.0.0.2", "dns:53/UDP"), s, nt.Pod("y/c", "", "fd00::3", "http:8080/TCP"), h},
		Workloads:  []netpol.Workload{w},
	}
}

// refPolicy builds a policy from a one-line spec in flow YAML.
func refPolicy(ns, spec string) networkingv1.NetworkPolicy {
	return nt.Policy(fmt.Sprintf("metadata: {namespace: '%s', name: p}\nspec: %s", ns, spec))
}

// refExpect is "src -> dst probe" and the verdict expected with MatchAPI
// and with the cyclonus matcher.
type refExpect struct {
	conn            string
	want, cyclonus  bool
	ignorePodsWants *bool
}

func allow(conn string) refExpect { return refExpect{conn: conn, want: true, cyclonus: true} }
func deny(conn string) refExpect  { return refExpect{conn: conn} }

func TestReference(t *testing.T) {
	no := false
	tests := []struct {
		name   string
		policy networkingv1.NetworkPolicy
		expect []refExpect
	}{
		{"no policy", networkingv1.NetworkPolicy{}, []refExpect{allow("x/a -> x/b TCP/80"), allow("192.0.2.1 -> y/c UDP/9")}},
		{"deny all ingress", refPolicy("x", "{podSelector: {}}"), []refExpect{
			deny("x/a -> x/b TCP/80"), deny("y/c -> x/a TCP/80"), allow("x/b -> y/c TCP/80"), allow("x/a -> x/a TCP/80"),
			deny("192.0.2.1 -> x/a TCP/80"), deny("y/c -> x/deployment/w TCP/80"),
		}},
		{"NotIn matches a missing key", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [b]}]}}]}]}"), []refExpect{
			allow("x/b -> x/a TCP/80"), {conn: "x/s -> x/a TCP/80", want: true, cyclonus: false},
		}},
		{"matchLabels with an empty value needs the key", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{podSelector: {matchLabels: {tier: ''}}}]}]}"), []refExpect{
			allow("x/b -> x/a TCP/80"), {conn: "x/s -> x/a TCP/80", want: false, cyclonus: true},
		}},
		{"egress rules alone isolate ingress too", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, egress: [{}]}"), []refExpect{
			deny("y/c -> x/a TCP/80"), allow("x/a -> y/c TCP/80"),
		}},
		{"named port on the destination", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{ports: [{port: http}]}]}"), []refExpect{
			allow("x/a -> y/c TCP/8080"), deny("x/a -> y/c TCP/80"), deny("x/a -> x/b TCP/80"), deny("x/a -> 192.0.2.1 TCP/80"),
			allow("x/a -> x/deployment/w TCP/80"), deny("x/a -> y/h TCP/80"),
		}},
		{"named port needs its protocol", refPolicy("y", "{podSelector: {}, ingress: [{ports: [{port: http, protocol: UDP}]}]}"), []refExpect{
			deny("x/a -> y/c TCP/8080"), deny("x/a -> y/c UDP/8080"),
		}},
		{"native sidecar ports count, init container ports do not", refPolicy("x", "{podSelector: {matchLabels: {app: s}}, ingress: [{ports: [{port: metrics, protocol: SCTP}, {port: init-http, protocol: UDP}]}]}"), []refExpect{
			allow("x/a -> x/s SCTP/9000"), deny("x/a -> x/s UDP/80"),
		}},
		{"protocol only", refPolicy("x", "{podSelector: {}, ingress: [{ports: [{protocol: UDP}]}]}"), []refExpect{
			allow("y/c -> x/b UDP/53"), allow("y/c -> x/b UDP/1"), deny("y/c -> x/b TCP/53"), deny("y/c -> x/b SCTP/53"),
		}},
		{"endPort is inclusive", refPolicy("x", "{podSelector: {}, ingress: [{ports: [{port: 80, endPort: 81}]}]}"), []refExpect{
			allow("y/c -> x/a TCP/80"), allow("y/c -> x/a TCP/81"), deny("y/c -> x/a TCP/82"), deny("y/c -> x/a UDP/81"),
		}},
		{"ipBlock matches pod IPs unless told not to", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.2/32}}]}]}"), []refExpect{
			{conn: "x/b -> x/a TCP/80", want: true, cyclonus: true, ignorePodsWants: &no}, deny("x/s -> x/a TCP/80"),
		}},
		{"except", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.2/32]}}]}]}"), []refExpect{
			deny("x/b -> x/a TCP/80"), allow("x/s -> x/a TCP/80"), deny("10.0.0.2 -> x/a TCP/80"),
		}},
		{"IPv4 blocks do not hold IPv6 addresses", refPolicy("x", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}"), []refExpect{
			deny("y/c -> x/a TCP/80"), deny("2001:db8::1 -> x/a TCP/80"), allow("192.0.2.1 -> x/a TCP/80"),
		}},
		{"hostNetwork pods are their node", refPolicy("x", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}"), []refExpect{
			allow("y/h -> x/s TCP/80"), deny("y/h -> x/a TCP/80"), allow("y/c -> x/a TCP/80"), allow("172.16.0.1 -> x/s TCP/1"),
			deny("172.16.0.1 -> x/a TCP/1"),
		}},
		{"ipBlock sees a hostNetwork pod's address", refPolicy("x", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 172.16.0.0/16}}]}]}"), []refExpect{
			allow("y/h -> x/a TCP/80"),
		}},
		{"a template is in a block that holds every pod range", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]}"), []refExpect{
			{conn: "x/a -> x/deployment/w TCP/80", want: true, cyclonus: true, ignorePodsWants: &no},
		}},
		{"a template is not in a smaller block", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/17}}]}]}"), []refExpect{
			deny("x/a -> x/deployment/w TCP/80"), allow("x/a -> x/b TCP/80"),
		}},
		{"a template is not in a block with an except inside", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.9.0/24]}}]}]}"), []refExpect{
			deny("x/a -> x/deployment/w TCP/80"),
		}},
		{"empty egress isolates, an empty rule allows all", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, policyTypes: [Egress], egress: []}"), []refExpect{
			deny("x/a -> y/c TCP/80"), deny("x/a -> 192.0.2.1 TCP/80"),
		}},
		{"namespace and pod selectors in one peer are ANDed", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: h}}}]}]}"), []refExpect{
			deny("y/c -> x/a TCP/80"), deny("x/b -> x/a TCP/80"),
		}},
		{"two peers are ORed", refPolicy("x", "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}, {podSelector: {matchLabels: {app: b}}}]}]}"), []refExpect{
			allow("y/c -> x/a TCP/80"), allow("x/b -> x/a TCP/80"), deny("x/s -> x/a TCP/80"),
		}},
		{"a pod selector alone stays in the policy namespace", refPolicy("y", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}"), []refExpect{
			deny("x/a -> y/c TCP/8080"),
		}},
		{"the namespace name label", refPolicy("y", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}}]}]}"), []refExpect{
			allow("x/a -> y/c TCP/8080"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := refCluster()
			if tc.policy.Name != "" {
				s.Policies = []networkingv1.NetworkPolicy{tc.policy}
			}
			eps := s.Endpoints()
			for _, ex := range tc.expect {
				src, dst, p := parseConn(t, eps, ex.conn)
				checks := []struct {
					ref  nt.Reference
					want bool
				}{
					{nt.Reference{Snapshot: s}, ex.want},
					{nt.Reference{Snapshot: s, Match: nt.CyclonusMatcher(nt.AllCyclonusBugs)}, ex.cyclonus},
				}
				if ex.ignorePodsWants != nil {
					checks = append(checks, struct {
						ref  nt.Reference
						want bool
					}{nt.Reference{Snapshot: s, IPBlockIgnoresPods: true}, *ex.ignorePodsWants})
				}
				for _, c := range checks {
					if got := c.ref.Allowed(src, dst, p); got != c.want {
						t.Errorf("%s (cyclonus=%v ignorePods=%v): got %v, want %v", ex.conn, c.ref.Match != nil, c.ref.IPBlockIgnoresPods, got, c.want)
					}
				}
			}
		})
	}
}

// parseConn reads "src -> dst PROTO/port"; src and dst are endpoint IDs of
// eps or external addresses.
func parseConn(t *testing.T, eps []netpol.Endpoint, s string) (netpol.Endpoint, netpol.Endpoint, netpol.Probe) {
	t.Helper()
	f := strings.Fields(s)
	if len(f) != 4 || f[1] != "->" {
		t.Fatalf("bad connection %q", s)
	}
	find := func(id string) netpol.Endpoint {
		for _, ep := range eps {
			if ep.ID() == id {
				return ep
			}
		}
		if !strings.Contains(id, "/") {
			return netpol.External(mustAddr(t, id))
		}
		t.Fatalf("no endpoint %q", id)
		return netpol.Endpoint{}
	}
	return find(f[0]), find(f[2]), nt.Probe(f[3])
}
