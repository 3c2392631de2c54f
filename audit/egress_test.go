package audit_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/netpoltest"
)

// webEgress is a policy isolating shop/web for egress with the given rules.
func webEgress(rules string) string {
	return "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: " + rules + "}"
}

func TestMetadata(t *testing.T) {
	runCases(t, "egress-to-metadata", []checkCase{
		{"everything", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]"))),
			[]string{"high NetworkPolicy shop/p spec.egress[0].to[0]"}},
		{"second peer", cluster(np("shop/p", webEgress("[{to: [{podSelector: {}}, {ipBlock: {cidr: 169.254.0.0/16}}]}]"))),
			[]string{"high NetworkPolicy shop/p spec.egress[0].to[1]"}},
		{"any peer", cluster(np("shop/p", webEgress("[{ports: [{port: 80}]}]"))), []string{"high NetworkPolicy shop/p spec.egress[0]"}},
		{"except", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]"))), nil},
		{"other port", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 169.254.0.0/16}}], ports: [{port: 443}]}]"))), nil},
		{"not isolated", cluster(np("shop/p", "{podSelector: {}}")), nil},
	})
}

func TestEtcd(t *testing.T) {
	runCases(t, "egress-to-etcd", []checkCase{
		{"node range", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.0/24}}], ports: [{port: 2379}]}]"))),
			[]string{"high NetworkPolicy shop/p spec.egress[0].to[0]"}},
		{"peer port range", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.3/32}}], ports: [{port: 2000, endPort: 3000}]}]"))),
			[]string{"high NetworkPolicy shop/p spec.egress[0].to[0]"}},
		{"api port only", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.0/24}}], ports: [{port: 443}]}]"))), nil},
		{"elsewhere", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]"))), nil},
	})
	s := cluster(np("shop/p", webEgress("[{}]")))
	s.Nodes = nil
	got, rep := findings(t, s, "egress-to-etcd")
	if len(got) != 0 || !strings.Contains(strings.Join(rep.Notes, "\n"), "egress-to-etcd: the snapshot has no Node objects") {
		t.Errorf("without nodes: findings %v, notes %v", got, rep.Notes)
	}
}

func TestAPIServer(t *testing.T) {
	runCases(t, "egress-to-api-server", []checkCase{
		{"endpoint", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.2/32}}], ports: [{port: 6443}]}]"))),
			[]string{"medium NetworkPolicy shop/p spec.egress[0].to[0]"}},
		{"service port is not what policies see", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.2/32}}], ports: [{port: 443}]}]"))), nil},
		{"cluster ip is not what policies see", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 10.96.0.1/32}}]}]"))), nil},
	})
	noSlices := cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 10.96.0.1/32}}]}]")))
	noSlices.EndpointSlices = nil
	got, rep := findings(t, noSlices, "egress-to-api-server")
	if diff := cmp.Diff([]string{"medium NetworkPolicy shop/p spec.egress[0].to[0]"}, got); diff != "" ||
		!strings.Contains(strings.Join(rep.Notes, "\n"), "has no EndpointSlices in the snapshot; its ClusterIP stands for the API server's addresses") {
		t.Errorf("without slices: findings %v, notes %v", got, rep.Notes)
	}
	noSlices.Services = noSlices.Services[:1]
	got, rep = findings(t, noSlices, "egress-to-api-server")
	if len(got) != 0 || !strings.Contains(strings.Join(rep.Notes, "\n"), "no Service default/kubernetes") {
		t.Errorf("without the Service: findings %v, notes %v", got, rep.Notes)
	}
}

func TestNodePorts(t *testing.T) {
	runCases(t, "egress-to-node-ports", []checkCase{
		{"one node port", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.0/16}}], ports: [{port: 31080}]}]"))),
			[]string{"medium NetworkPolicy shop/p spec.egress[0].to[0]"}},
		{"udp range", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.0/16}}], ports: [{port: 32000, endPort: 40000, protocol: UDP}]}]"))),
			[]string{"medium NetworkPolicy shop/p spec.egress[0].to[0]"}},
		{"below the range", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 172.18.0.0/16}}], ports: [{port: 8080, endPort: 29999}]}]"))), nil},
		{"not the nodes", cluster(np("shop/p", webEgress("[{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]"))), nil},
	})
}

func TestDNS(t *testing.T) {
	const denyEgress = "{podSelector: {}, policyTypes: [Egress]}"
	noDNS := cluster(np("shop/deny", denyEgress))
	noDNS.Pods = noDNS.Pods[:3]
	noDNS.Services = nil
	custom := cluster(np("shop/deny", denyEgress),
		np("shop/dns", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]}]}"))
	custom.Pods[3].Labels = map[string]string{"app": "coredns"}
	custom.Services[0].Spec.Selector = map[string]string{"app": "coredns"}
	runCases(t, "dns-egress-denied", []checkCase{
		{"default deny egress", cluster(np("shop/deny", denyEgress)), []string{"high NetworkPolicy shop/deny spec.egress"}},
		{"with dns", cluster(np("shop/deny", denyEgress),
			np("shop/dns", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{port: 53, protocol: UDP}]}]}")), nil},
		{"tcp only", cluster(np("shop/deny", denyEgress),
			np("shop/dns", "{podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: TCP}]}]}")), []string{"high NetworkPolicy shop/deny spec.egress"}},
		{"dns pods deny ingress", cluster(np("kube-system/deny", "{podSelector: {}}")),
			// other and shop, one finding each; the DNS pod itself is not asked.
			[]string{"high NetworkPolicy kube-system/deny spec.ingress", "high NetworkPolicy kube-system/deny spec.ingress"}},
		{"assumed dns", noDNS, []string{"high NetworkPolicy shop/deny spec.egress"}},
		{"service selector", custom, []string{"high NetworkPolicy shop/deny spec.egress"}},
		{"no egress policy", cluster(), nil},
	})
}

// TestDNSFinding checks the words of a DNS finding: who breaks, why, and
// the recipe with the cluster's own DNS labels.
func TestDNSFinding(t *testing.T) {
	s := cluster(np("shop/deny", "{podSelector: {}, policyTypes: [Egress]}"))
	s.Pods[3].Labels = map[string]string{"app": "coredns"}
	s.Services[0].Spec.Selector = map[string]string{"app": "coredns"}
	_, rep := findings(t, s, "")
	var got []string
	for _, f := range rep.Findings {
		if f.Check == "dns-egress-denied" {
			got = append(got, f.Message, f.Fix)
		}
	}
	want := []string{
		"2 pods of namespace shop (shop/api, shop/web) cannot reach the cluster DNS (kube-system/coredns) on UDP/53: egress isolated by shop/deny, and no rule allows DNS",
		"netpol recipe render allow-dns-egress -n shop --set dnsPods=app=coredns",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAssumedDNSIsNotReported checks that the workload standing for the
// cluster DNS never shows up in findings.
func TestAssumedDNSIsNotReported(t *testing.T) {
	s := &netpol.Snapshot{
		Pods:     []corev1.Pod{netpoltest.Pod("shop/web", "app=web", "10.0.1.1", "")},
		Policies: nil,
	}
	s.Workloads = []netpol.Workload{{Kind: "Deployment", ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api"}}}
	_, rep := findings(t, s, "")
	for _, f := range rep.Findings {
		if strings.Contains(f.Object.Name+f.Message, "assumed") || f.Object.Namespace == "kube-system" || f.Object.Name == "kube-system" {
			t.Errorf("finding about the assumed DNS: %+v", f)
		}
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "assumed to run in kube-system with labels k8s-app=kube-dns") {
		t.Errorf("notes %v", rep.Notes)
	}
}
