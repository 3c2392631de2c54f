package netpoltest_test

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

func TestGenerateIsDeterministic(t *testing.T) {
	for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
		for seed := range int64(20) {
			a, b := nt.Generate(seed, size), nt.Generate(seed, size)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Fatalf("seed %d: two runs differ (-first +second):\n%s", seed, diff)
			}
			if diff := cmp.Diff(nt.Externals(seed, size), nt.Externals(seed, size), cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
				t.Fatalf("seed %d: externals differ:\n%s", seed, diff)
			}
		}
	}
}

// TestGenerateIsValid compiles generated snapshots: every policy valid,
// no external at a pod address.
func TestGenerateIsValid(t *testing.T) {
	for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
		for seed := range int64(500) {
			s := nt.Generate(seed, size)
			if _, err := simulate.Compile(s, simulate.Options{Externals: nt.Externals(seed, size)}); err != nil {
				t.Fatalf("seed %d cluster=%v: %v", seed, size.Cluster, err)
			}
		}
	}
}

// TestGenerateCoversEveryConstruct checks that a few hundred seeds of the
// small sizes use every construct the differential tests rely on.
func TestGenerateCoversEveryConstruct(t *testing.T) {
	seen := map[string]int{}
	for seed := range int64(300) {
		for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
			s := nt.Generate(seed, size)
			for _, c := range constructs(s) {
				seen[c]++
			}
		}
	}
	want := []string{
		"namespace label empty value", "pod label empty value", "pod without a label key", "pod IPv4", "pod IPv6",
		"pod dual-stack", "pod IPv4-mapped", "pod hostNetwork", "pod pending", "pod finished", "template", "template hostNetwork",
		"port named", "port unnamed", "port TCP", "port UDP", "port SCTP", "port protocol defaulted",
		"port in native sidecar", "port in init container", "port name repeated in a pod", "port name with several numbers",
		"podSelector empty", "podSelector set", "matchLabels", "matchLabels empty value",
		"In", "NotIn", "Exists", "DoesNotExist", "expression on a missing key",
		"policyTypes omitted", "policyTypes omitted with egress", "policyTypes Ingress", "policyTypes Egress", "policyTypes both", "policyTypes repeated",
		"ingress omitted", "ingress []", "egress []", "rules of an inactive direction",
		"peers omitted", "peers []", "rule {}", "ports []", "peer podSelector", "peer namespaceSelector",
		"peer namespaceSelector {}", "peer both", "two peers", "ipBlock IPv4", "ipBlock IPv6", "ipBlock except",
		"ipBlock holds a pod", "ipBlock host bits", "ipBlock upper case", "port numeric", "port named ref", "port protocol only", "port range", "policy protocol defaulted",
		"policy TCP", "policy UDP", "policy SCTP",
	}
	for _, c := range want {
		if seen[c] == 0 {
			t.Errorf("no generated snapshot has %s", c)
		}
	}
}

// constructs lists the constructs a snapshot uses.
func constructs(s *netpol.Snapshot) []string {
	var out []string
	add := func(ok bool, c string) {
		if ok {
			out = append(out, c)
		}
	}
	for _, n := range s.Namespaces {
		add(slices.Contains(mapValues(n.Labels), ""), "namespace label empty value")
	}
	numbers := map[string]map[int32]bool{}
	var addrs []netip.Addr
	for _, p := range s.Pods {
		add(slices.Contains(mapValues(p.Labels), ""), "pod label empty value")
		_, hasApp := p.Labels["app"]
		add(!hasApp, "pod without a label key")
		ips := netpol.PodIPs(&p)
		add(len(ips) == 1 && ips[0].Is4(), "pod IPv4")
		add(len(ips) == 1 && ips[0].Is6(), "pod IPv6")
		add(len(ips) == 2, "pod dual-stack")
		add(len(p.Status.PodIPs) > 0 && strings.HasPrefix(p.Status.PodIPs[0].IP, "::ffff:"), "pod IPv4-mapped")
		add(p.Spec.HostNetwork, "pod hostNetwork")
		add(p.Status.Phase == corev1.PodPending, "pod pending")
		add(p.Status.Phase == corev1.PodSucceeded, "pod finished")
		if !p.Spec.HostNetwork && len(ips) > 0 {
			addrs = append(addrs, ips[0])
		}
		out = append(out, podPortConstructs(&p.Spec, numbers)...)
	}
	for _, ns := range numbers {
		add(len(ns) > 1, "port name with several numbers")
	}
	for _, w := range s.Workloads {
		add(true, "template")
		add(w.Template.Spec.HostNetwork, "template hostNetwork")
	}
	for i := range s.Policies {
		out = append(out, policyConstructs(&s.Policies[i], addrs)...)
	}
	return out
}

func podPortConstructs(spec *corev1.PodSpec, numbers map[string]map[int32]bool) []string {
	var out []string
	names := map[string]int{}
	check := func(c corev1.Container, where string) {
		for _, p := range c.Ports {
			out = append(out, "port "+string(p.Protocol), where)
			if p.Protocol == "" {
				out = append(out, "port protocol defaulted", "port TCP")
			}
			if p.Name == "" {
				out = append(out, "port unnamed")
				continue
			}
			out = append(out, "port named")
			names[p.Name]++
			if numbers[p.Name] == nil {
				numbers[p.Name] = map[int32]bool{}
			}
			numbers[p.Name][p.ContainerPort] = true
		}
	}
	for _, c := range spec.Containers {
		check(c, "port in a container")
	}
	for _, c := range spec.InitContainers {
		if c.RestartPolicy != nil {
			check(c, "port in native sidecar")
		} else {
			check(c, "port in init container")
		}
	}
	for _, n := range names {
		if n > 1 {
			out = append(out, "port name repeated in a pod")
		}
	}
	return out
}

func policyConstructs(np *networkingv1.NetworkPolicy, addrs []netip.Addr) []string {
	var out []string
	add := func(ok bool, c string) {
		if ok {
			out = append(out, c)
		}
	}
	spec := &np.Spec
	empty := len(spec.PodSelector.MatchLabels) == 0 && len(spec.PodSelector.MatchExpressions) == 0
	add(empty, "podSelector empty")
	add(!empty, "podSelector set")
	out = append(out, selectorConstructs(&spec.PodSelector)...)
	add(spec.PolicyTypes == nil, "policyTypes omitted")
	add(spec.PolicyTypes == nil && len(spec.Egress) > 0, "policyTypes omitted with egress")
	add(slices.Equal(spec.PolicyTypes, []networkingv1.PolicyType{"Ingress"}), "policyTypes Ingress")
	add(slices.Equal(spec.PolicyTypes, []networkingv1.PolicyType{"Egress"}), "policyTypes Egress")
	add(slices.Equal(spec.PolicyTypes, []networkingv1.PolicyType{"Ingress", "Egress"}), "policyTypes both")
	add(len(spec.PolicyTypes) == 2 && spec.PolicyTypes[0] == spec.PolicyTypes[1], "policyTypes repeated")
	add(spec.Ingress == nil, "ingress omitted")
	add(spec.Ingress != nil && len(spec.Ingress) == 0, "ingress []")
	add(spec.Egress != nil && len(spec.Egress) == 0, "egress []")
	add(slices.Equal(spec.PolicyTypes, []networkingv1.PolicyType{"Egress"}) && len(spec.Ingress) > 0, "rules of an inactive direction")
	var rules [][2]any
	for _, r := range spec.Ingress {
		rules = append(rules, [2]any{r.Ports, r.From})
	}
	for _, r := range spec.Egress {
		rules = append(rules, [2]any{r.Ports, r.To})
	}
	for _, r := range rules {
		ports, peers := r[0].([]networkingv1.NetworkPolicyPort), r[1].([]networkingv1.NetworkPolicyPeer)
		add(peers == nil, "peers omitted")
		add(peers != nil && len(peers) == 0, "peers []")
		add(peers == nil && ports == nil, "rule {}")
		add(ports != nil && len(ports) == 0, "ports []")
		add(len(peers) == 2, "two peers")
		for _, p := range peers {
			out = append(out, peerConstructs(&p, addrs)...)
		}
		for _, p := range ports {
			out = append(out, portConstructs(&p)...)
		}
	}
	return out
}

func peerConstructs(p *networkingv1.NetworkPolicyPeer, addrs []netip.Addr) []string {
	var out []string
	switch {
	case p.IPBlock != nil:
		cidr := netip.MustParsePrefix(p.IPBlock.CIDR)
		out = append(out, map[bool]string{true: "ipBlock IPv4", false: "ipBlock IPv6"}[cidr.Addr().Is4()])
		if len(p.IPBlock.Except) > 0 {
			out = append(out, "ipBlock except")
		}
		if cidr != cidr.Masked() {
			out = append(out, "ipBlock host bits")
		}
		if strings.ContainsAny(p.IPBlock.CIDR+strings.Join(p.IPBlock.Except, ""), "ABCDEF") {
			out = append(out, "ipBlock upper case")
		}
		if slices.ContainsFunc(addrs, cidr.Contains) {
			out = append(out, "ipBlock holds a pod")
		}
	case p.PodSelector != nil && p.NamespaceSelector != nil:
		out = append(out, "peer both")
	case p.PodSelector != nil:
		out = append(out, "peer podSelector")
	default:
		out = append(out, "peer namespaceSelector")
		if len(p.NamespaceSelector.MatchLabels) == 0 && len(p.NamespaceSelector.MatchExpressions) == 0 {
			out = append(out, "peer namespaceSelector {}")
		}
	}
	for _, s := range []*metav1.LabelSelector{p.PodSelector, p.NamespaceSelector} {
		if s != nil {
			out = append(out, selectorConstructs(s)...)
		}
	}
	return out
}

func selectorConstructs(s *metav1.LabelSelector) []string {
	var out []string
	if len(s.MatchLabels) > 0 {
		out = append(out, "matchLabels")
	}
	if slices.Contains(mapValues(s.MatchLabels), "") {
		out = append(out, "matchLabels empty value")
	}
	for _, e := range s.MatchExpressions {
		out = append(out, string(e.Operator))
		if e.Key == "missing" {
			out = append(out, "expression on a missing key")
		}
	}
	return out
}

func portConstructs(p *networkingv1.NetworkPolicyPort) []string {
	out := []string{"policy protocol defaulted"}
	if p.Protocol != nil {
		out = []string{"policy " + string(*p.Protocol)}
	}
	switch {
	case p.Port == nil:
		out = append(out, "port protocol only")
	case p.Port.Type == intstr.String:
		out = append(out, "port named ref")
	case p.EndPort != nil:
		out = append(out, "port range")
	default:
		out = append(out, "port numeric")
	}
	return out
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestScenarioRoundTrip writes generated snapshots as scenarios, reads them
// back and checks that the engine sees the same endpoints and verdicts.
func TestScenarioRoundTrip(t *testing.T) {
	for seed := range int64(100) {
		s := nt.Generate(seed, nt.Small)
		ext, probes := nt.Externals(seed, nt.Small), nt.Probes(s)
		sc, err := nt.NewScenario(s, ext, probes)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var buf bytes.Buffer
		if err := sc.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := nt.ReadScenario(&buf)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		ext2, err := back.ExternalAddrs()
		if err != nil {
			t.Fatal(err)
		}
		probes2, err := back.ProbeList()
		if err != nil {
			t.Fatal(err)
		}
		for _, np := range back.Policies {
			if len(np.Spec.PolicyTypes) == 0 {
				t.Fatalf("seed %d: policy %s/%s not defaulted", seed, np.Namespace, np.Name)
			}
		}
		e1, err := simulate.Compile(s, simulate.Options{Externals: ext})
		if err != nil {
			t.Fatal(err)
		}
		e2, err := simulate.Compile(back.Snapshot(), simulate.Options{Externals: ext2})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(e1.Endpoints()) != len(e2.Endpoints()) || !slices.Equal(probes, probes2) {
			t.Fatalf("seed %d: %d endpoints and %v became %d and %v", seed, len(e1.Endpoints()), probes, len(e2.Endpoints()), probes2)
		}
		for i := range e1.Endpoints() {
			for j := range e1.Endpoints() {
				for _, p := range probes {
					a, b := simulate.EndpointID(i), simulate.EndpointID(j)
					if v1, v2 := e1.Evaluate(a, b, p).Verdict, e2.Evaluate(a, b, p).Verdict; v1 != v2 || e1.Endpoint(a).ID() != e2.Endpoint(a).ID() {
						t.Fatalf("seed %d: %s -> %s %s: %v before the round trip, %v after", seed, e1.Endpoint(a).ID(), e1.Endpoint(b).ID(), p, v1, v2)
					}
				}
			}
		}
	}
}

func TestScenarioRejectsClusterConstructs(t *testing.T) {
	for seed := range int64(20) {
		s := nt.Generate(seed, nt.SmallCluster)
		if _, err := nt.NewScenario(s, nil, nil); err == nil {
			t.Fatalf("seed %d: NewScenario accepted nodes, hostNetwork pods or templates", seed)
		}
	}
}
