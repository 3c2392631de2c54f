package simulate_test

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// base is a small cluster: namespaces x and y, pods a and b in each, a
// hostNetwork pod, and a sidecar-port pod.
func base() *netpol.Snapshot {
	s := &netpol.Snapshot{
		Namespaces: []corev1.Namespace{nt.Namespace("x", "team=red"), nt.Namespace("y", "team=blue")},
		Pods: []corev1.Pod{
			nt.Pod("x/a", "app=a", "10.0.0.1", "http:80/TCP dns:53/UDP 81/TCP"),
			nt.Pod("x/b", "app=b,tier=web", "10.0.0.2", "web:8080/TCP 81/TCP"),
			nt.Pod("y/a", "app=a", "10.0.1.1", "http:80/TCP"),
			nt.Pod("y/b", "app=b", "10.0.1.2", "http:81/TCP"),
		},
	}
	return s
}

func TestEvaluate(t *testing.T) {
	ext := netip.MustParseAddr("192.0.2.10")
	cases := []struct {
		name     string
		policies []string
		opts     simulate.Options
		from, to string
		probe    string
		want     simulate.Verdict
		explain  string // substring of the explanation
	}{
		{"no policies", nil, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Allowed, "not isolated for ingress"},
		{"deny all ingress", []string{denyIn("y")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Denied, "y/deny has no ingress rules"},
		{"self always", []string{denyIn("y")}, simulate.Options{}, "y/b", "y/b", "TCP/80", simulate.Allowed, "itself"},
		{"same ns pod selector", []string{allowFromPod("y", "app: a")}, simulate.Options{}, "y/a", "y/b", "TCP/80", simulate.Allowed, "ingress[0] allows it"},
		{"pod selector is own namespace only", []string{allowFromPod("y", "app: a")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Denied, "in another namespace"},
		{"egress rules isolate ingress too", []string{egressOnly("y")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Denied, "isolated for ingress"},
		{"ns and pod AND", []string{and("y")}, simulate.Options{}, "y/a", "y/b", "TCP/80", simulate.Denied, "namespace y not selected"},
		{"ns and pod AND match", []string{and("y")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Allowed, ""},
		{"ns or pod OR", []string{or("y")}, simulate.Options{}, "y/a", "y/b", "TCP/80", simulate.Allowed, ""},
		{"ipblock matches pod", []string{ipblock("y", "10.0.0.0/16", "10.0.0.2/32")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Allowed, "ipBlock matches pod IPs"},
		{"ipblock except", []string{ipblock("y", "10.0.0.0/16", "10.0.0.2/32")}, simulate.Options{}, "x/b", "y/b", "TCP/80", simulate.Denied, "except"},
		{"ipblock ignores pods", []string{ipblock("y", "10.0.0.0/16", "10.0.0.2/32")}, simulate.Options{IPBlockIgnoresPods: true}, "x/a", "y/b", "TCP/80", simulate.Denied, "ipblock-matches-pods=false"},
		{"ipblock external", []string{ipblock("y", "192.0.2.0/24", "192.0.2.128/25")}, simulate.Options{Externals: []netip.Addr{ext}}, "192.0.2.10", "y/b", "TCP/80", simulate.Allowed, ""},
		{"ipv6 block never matches v4", []string{ipblock("y", "::/0", "::1/128")}, simulate.Options{Externals: []netip.Addr{ext}}, "192.0.2.10", "y/b", "TCP/80", simulate.Denied, ""},
		{"named port resolves on destination", []string{ports("y", "port: http")}, simulate.Options{}, "x/a", "y/b", "TCP/81", simulate.Allowed, ""},
		{"named port wrong number", []string{ports("y", "port: http")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Denied, "http/TCP (81 on y/b)"},
		{"named port protocol must match", []string{ports("y", "port: http\n      protocol: UDP")}, simulate.Options{}, "x/a", "y/b", "UDP/81", simulate.Denied, ""},
		{"protocol only", []string{ports("y", "protocol: UDP")}, simulate.Options{}, "x/a", "y/b", "UDP/9999", simulate.Allowed, ""},
		{"protocol only other protocol", []string{ports("y", "protocol: UDP")}, simulate.Options{}, "x/a", "y/b", "TCP/81", simulate.Denied, "any UDP port"},
		{"end port inclusive", []string{ports("y", "port: 80\n      endPort: 90")}, simulate.Options{}, "x/a", "y/b", "TCP/90", simulate.Allowed, ""},
		{"end port beyond", []string{ports("y", "port: 80\n      endPort: 90")}, simulate.Options{}, "x/a", "y/b", "TCP/91", simulate.Denied, "80-90/TCP"},
		{"default protocol TCP", []string{ports("y", "port: 81")}, simulate.Options{}, "x/a", "y/b", "SCTP/81", simulate.Denied, ""},
		{"NotIn matches missing key", []string{selExpr("y", "{key: tier, operator: NotIn, values: [db]}")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Allowed, ""},
		{"matchLabels empty value needs key", []string{allowFromAnyNS("y", "tier: \"\"")}, simulate.Options{}, "x/a", "y/b", "TCP/80", simulate.Denied, ""},
		{"egress named port to external never", []string{egressNamed("x")}, simulate.Options{Externals: []netip.Addr{ext}}, "x/a", "192.0.2.10", "TCP/80", simulate.Denied, "not a port of 192.0.2.10"},
		{"egress named port to pod", []string{egressNamed("x")}, simulate.Options{}, "x/a", "y/a", "TCP/80", simulate.Allowed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			for _, p := range tc.policies {
				s.Policies = append(s.Policies, nt.Policy(p))
			}
			eng, err := simulate.Compile(s, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			src, ok1 := eng.Lookup(tc.from)
			dst, ok2 := eng.Lookup(tc.to)
			if !ok1 || !ok2 {
				t.Fatalf("lookup %q %q: %v %v", tc.from, tc.to, ok1, ok2)
			}
			x := eng.Explain(src, dst, nt.Probe(tc.probe))
			if x.Result.Verdict != tc.want {
				t.Errorf("verdict %v, want %v\n%s", x.Result.Verdict, tc.want, x)
			}
			if !strings.Contains(x.String(), tc.explain) {
				t.Errorf("explanation lacks %q:\n%s", tc.explain, x)
			}
			m := eng.Matrix([]simulate.EndpointID{src, dst}, []netpol.Probe{nt.Probe(tc.probe)})
			if got := m.Allowed(0, 1, 0); got != (tc.want == simulate.Allowed) {
				t.Errorf("matrix says %v", got)
			}
		})
	}
}

func denyIn(ns string) string {
	return "metadata: {name: deny, namespace: \"" + ns + "\"}\nspec: {podSelector: {}}"
}

func allowFromPod(ns, sel string) string {
	return "metadata: {name: allow, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {" + sel + "}}"
}

func allowFromAnyNS(ns, sel string) string {
	return "metadata: {name: allow, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector: {}\n      podSelector: {matchLabels: {" + sel + "}}"
}

func selExpr(ns, expr string) string {
	return "metadata: {name: allow, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector: {}\n      podSelector: {matchExpressions: [" + expr + "]}"
}

func egressOnly(ns string) string {
	return "metadata: {name: eg, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  egress:\n  - {}"
}

func and(ns string) string {
	return "metadata: {name: and, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: red}}\n      podSelector: {matchLabels: {app: a}}"
}

func or(ns string) string {
	return "metadata: {name: or, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: red}}\n    - podSelector: {matchLabels: {app: a}}"
}

func ipblock(ns, cidr, except string) string {
	return "metadata: {name: ipb, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock: {cidr: \"" + cidr + "\", except: [\"" + except + "\"]}"
}

func ports(ns, port string) string {
	return "metadata: {name: ports, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - " + port
}

func egressNamed(ns string) string {
	return "metadata: {name: egn, namespace: \"" + ns + "\"}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - ports:\n    - port: http"
}

var _ = networkingv1.PolicyTypeIngress
