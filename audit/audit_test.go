package audit_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/audit"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/recipes"
)

// np is a policy written as "ns/name" and its spec in YAML flow style.
func np(id, spec string) networkingv1.NetworkPolicy {
	ns, name, _ := strings.Cut(id, "/")
	return netpoltest.Policy(fmt.Sprintf("metadata: {name: %s, namespace: %s}\nspec: %s", name, ns, spec))
}

// cluster is the base cluster of the tests: namespaces shop (pods web, with
// port http 8080/TCP, and api) and other (pod client); the cluster DNS in
// kube-system behind the kube-dns Service; one node, 172.18.0.3; the API
// server at 172.18.0.2:6443 behind the kubernetes Service.
func cluster(pols ...networkingv1.NetworkPolicy) *netpol.Snapshot {
	return &netpol.Snapshot{
		Namespaces: []corev1.Namespace{
			netpoltest.Namespace("shop", "team=shop"), netpoltest.Namespace("other", "team=other"),
			netpoltest.Namespace("kube-system", ""),
		},
		Nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.18.0.3"}}}}},
		Pods: []corev1.Pod{
			netpoltest.Pod("shop/web", "app=web", "10.0.1.1", "http:8080/TCP"),
			netpoltest.Pod("shop/api", "app=api", "10.0.1.2", ""),
			netpoltest.Pod("other/client", "app=client", "10.0.2.1", ""),
			netpoltest.Pod("kube-system/coredns", "k8s-app=kube-dns", "10.0.3.1", "dns:53/UDP dns-tcp:53/TCP"),
		},
		Services: []corev1.Service{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns"}, Spec: corev1.ServiceSpec{
				ClusterIP: "10.96.0.10", Selector: map[string]string{"k8s-app": "kube-dns"},
				Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"}, Spec: corev1.ServiceSpec{
				ClusterIP: "10.96.0.1", Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}},
		},
		EndpointSlices: []discoveryv1.EndpointSlice{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes",
				Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
			Ports:     []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](6443), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"172.18.0.2"}}},
		}},
		Policies: pols,
	}
}

// row is a finding in one line: "medium NetworkPolicy shop/p spec.ingress[0]".
func row(f audit.Finding) string {
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", f.Severity, f.Object, f.Field))
}

// findings runs the audit and returns the findings of one check as rows.
func findings(t *testing.T, s *netpol.Snapshot, check string) ([]string, *audit.Report) {
	t.Helper()
	rep, err := audit.Run(s, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range rep.Findings {
		if f.Check == check {
			out = append(out, row(f))
		}
	}
	return out, rep
}

// checkCase is one row of the table of a check: the policies added to the
// base cluster (or another cluster), and the findings wanted.
type checkCase struct {
	name string
	snap *netpol.Snapshot
	want []string
}

func runCases(t *testing.T, check string, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := findings(t, tc.snap, check)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s findings (-want +got):\n%s", check, diff)
			}
		})
	}
}

func TestDefaultDenyIngress(t *testing.T) {
	runCases(t, "no-default-deny-ingress", []checkCase{
		{"none", cluster(), []string{"medium Namespace kube-system", "medium Namespace other", "medium Namespace shop"}},
		{"default deny", cluster(np("shop/deny", "{podSelector: {}}")), []string{"medium Namespace kube-system", "medium Namespace other"}},
		{"default deny with rules", cluster(np("shop/deny", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}")),
			[]string{"medium Namespace kube-system", "medium Namespace other"}},
		{"allow all is no deny", cluster(np("shop/open", "{podSelector: {}, ingress: [{}]}")),
			[]string{"medium Namespace kube-system", "medium Namespace other", "medium Namespace shop"}},
		{"one app only", cluster(np("shop/web", "{podSelector: {matchLabels: {app: web}}}")),
			[]string{"medium Namespace kube-system", "medium Namespace other", "medium Namespace shop"}},
		{"egress only", cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Egress]}")),
			[]string{"medium Namespace kube-system", "medium Namespace other", "medium Namespace shop"}},
	})
}

func TestDefaultDenyEgress(t *testing.T) {
	runCases(t, "no-default-deny-egress", []checkCase{
		{"none", cluster(), []string{"low Namespace kube-system", "low Namespace other", "low Namespace shop"}},
		{"default deny", cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Egress]}")), []string{"low Namespace kube-system", "low Namespace other"}},
		{"with dns", cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Ingress, Egress], egress: [{ports: [{port: 53, protocol: UDP}]}]}")),
			[]string{"low Namespace kube-system", "low Namespace other"}},
		{"ingress only", cluster(np("shop/deny", "{podSelector: {}}")), []string{"low Namespace kube-system", "low Namespace other", "low Namespace shop"}},
		{"allow all", cluster(np("shop/open", "{podSelector: {}, policyTypes: [Egress], egress: [{}]}")),
			[]string{"low Namespace kube-system", "low Namespace other", "low Namespace shop"}},
	})
}

func TestPodNotIsolated(t *testing.T) {
	owned := cluster()
	rs := netpol.Workload{Kind: "ReplicaSet", ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d8",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}}}
	deploy := netpol.Workload{Kind: "Deployment", ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	owned.Workloads = []netpol.Workload{rs, deploy,
		{Kind: "StatefulSet", ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "db"},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}}}}}
	for i := range owned.Pods {
		if owned.Pods[i].Namespace == "shop" {
			owned.Pods[i].OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-5d8", Controller: ptr.To(true)}}
		}
	}
	owned.Policies = []networkingv1.NetworkPolicy{np("kube-system/deny", "{podSelector: {}}")}
	runCases(t, "pod-not-isolated", []checkCase{
		{"none", cluster(), []string{"medium Pod kube-system/coredns", "medium Pod other/client", "medium Pod shop/api", "medium Pod shop/web"}},
		{"web selected", cluster(np("shop/web", "{podSelector: {matchLabels: {app: web}}}")),
			[]string{"medium Pod kube-system/coredns", "medium Pod other/client", "medium Pod shop/api"}},
		{"egress does not isolate ingress", cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Egress]}")),
			[]string{"medium Pod kube-system/coredns", "medium Pod other/client", "medium Pod shop/api", "medium Pod shop/web"}},
		{"workloads", owned, []string{"medium Pod other/client", "medium StatefulSet other/db", "medium Deployment shop/web"}},
	})
}

func TestSelectsNothing(t *testing.T) {
	runCases(t, "policy-selects-nothing", []checkCase{
		{"typo", cluster(np("shop/p", "{podSelector: {matchLabels: {app: wbe}}}")), []string{"low NetworkPolicy shop/p spec.podSelector"}},
		{"matches", cluster(np("shop/p", "{podSelector: {matchLabels: {app: web}}}")), nil},
		{"other namespace", cluster(np("other/p", "{podSelector: {matchLabels: {app: web}}}")), []string{"low NetworkPolicy other/p spec.podSelector"}},
		{"empty namespace", cluster(np("empty/p", "{podSelector: {}}")), []string{"low NetworkPolicy empty/p spec.podSelector"}},
	})
}

func TestAnyPeer(t *testing.T) {
	runCases(t, "rule-allows-any-peer", []checkCase{
		{"ingress", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}, {ports: [{port: 80}]}]}")),
			[]string{"medium NetworkPolicy shop/p spec.ingress[1]"}},
		{"egress", cluster(np("shop/p", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: UDP}]}]}")),
			[]string{"low NetworkPolicy shop/p spec.egress[0]"}},
		{"peers", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}")), nil},
		{"ignored rules", cluster(np("shop/p", "{podSelector: {}, policyTypes: [Egress], ingress: [{}]}")), nil},
	})
}

func TestAllNamespaces(t *testing.T) {
	runCases(t, "rule-allows-all-namespaces", []checkCase{
		{"ingress", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{podSelector: {}}, {namespaceSelector: {}}]}]}")),
			[]string{"medium NetworkPolicy shop/p spec.ingress[0].from[1].namespaceSelector"}},
		{"with empty pods", cluster(np("shop/p", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {}}]}]}")),
			[]string{"low NetworkPolicy shop/p spec.egress[0].to[0].namespaceSelector"}},
		{"some pods", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}]}]}")), nil},
		{"some namespaces", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: x}}}]}]}")), nil},
	})
}

func TestAllAddresses(t *testing.T) {
	runCases(t, "rule-allows-all-addresses", []checkCase{
		{"ingress", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}")),
			[]string{"medium NetworkPolicy shop/p spec.ingress[0].from[0].ipBlock.cidr"}},
		{"egress v6 with except", cluster(np("shop/p", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: '::/0', except: ['fd00::/8']}}]}]}")),
			[]string{"low NetworkPolicy shop/p spec.egress[0].to[0].ipBlock.cidr"}},
		{"sloppy spelling", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.1/0}}]}]}")),
			[]string{"medium NetworkPolicy shop/p spec.ingress[0].from[0].ipBlock.cidr"}},
		{"narrow", cluster(np("shop/p", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]}")), nil},
	})
}

// TestFixesNameRecipes checks that every recipe a finding's fix names
// exists.
func TestFixesNameRecipes(t *testing.T) {
	rep, err := audit.Run(cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Ingress, Egress]}"),
		np("kube-system/deny", "{podSelector: {}}"),
		np("other/p", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}, {}]}")), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	re := regexp.MustCompile(`netpol recipe (?:render|show) ([a-z-]+)`)
	for _, f := range rep.Findings {
		seen[f.Check] = true
		for _, m := range re.FindAllStringSubmatch(f.Fix, -1) {
			if _, err := recipes.Get(m[1]); err != nil {
				t.Errorf("%s: fix %q: %v", f.Check, f.Fix, err)
			}
		}
		if f.Fix == "" || f.Why == "" || f.Message == "" {
			t.Errorf("%s: a finding without message, why or fix: %+v", f.Check, f)
		}
	}
	if len(seen) < 6 {
		t.Errorf("only %d checks found something: %v", len(seen), seen)
	}
}

func TestChecks(t *testing.T) {
	var ids []string
	for _, c := range audit.Checks() {
		if c.ID == "" || c.Title == "" || c.Why == "" || c.Severity == audit.SeverityUnknown {
			t.Errorf("incomplete check %+v", c)
		}
		ids = append(ids, c.ID)
	}
	if len(ids) != 14 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 14 {
		t.Errorf("want 14 distinct checks, got %v", ids)
	}
}

func TestSeverity(t *testing.T) {
	for _, name := range audit.Severities() {
		s, err := audit.ParseSeverity(strings.ToUpper(name))
		if err != nil || s.String() != name {
			t.Errorf("ParseSeverity(%q) = %v, %v", name, s, err)
		}
	}
	if _, err := audit.ParseSeverity("severe"); err == nil || err.Error() != `unknown severity "severe": want one of info, low, medium, high, critical` {
		t.Errorf("ParseSeverity(severe) error = %v", err)
	}
}

// TestNamespaceFilter checks that -n keeps the findings of a namespace
// while the checks see the whole cluster.
func TestNamespaceFilter(t *testing.T) {
	rep, err := audit.Run(cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Egress]}")), audit.Options{Namespaces: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Check+" "+row(f))
	}
	want := []string{
		"dns-egress-denied high NetworkPolicy shop/deny spec.egress",
		"no-default-deny-ingress medium Namespace shop",
		"pod-not-isolated medium Pod shop/api",
		"pod-not-isolated medium Pod shop/web",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if rep.Count(audit.High) != 1 || rep.Count(audit.Medium) != 4 || rep.Count(audit.Critical) != 0 {
		t.Errorf("counts: high %d, medium+ %d", rep.Count(audit.High), rep.Count(audit.Medium))
	}
}

func TestInvalidPolicy(t *testing.T) {
	_, err := audit.Run(cluster(np("shop/bad", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}")), audit.Options{})
	if err == nil || !strings.Contains(err.Error(), "shop/bad") {
		t.Errorf("error %v, want one naming shop/bad", err)
	}
}

func TestDeps(t *testing.T) {
	netpoltest.CheckDeps(t, "github.com/netpol/netpol/audit")
}
