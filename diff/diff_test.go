package diff_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/diff"
	"github.com/netpol/netpol/graph"
)

// shop is the base of the tests: namespaces x (team=x) and y; a bare pod
// x/a; the Deployment y/web of two pods; the Deployment y/db without pods
// (a template).
func shop(more ...part) *netpol.Snapshot {
	parts := []part{
		namespace("x", "team=x"), namespace("y", ""),
		pod("x/a", "app=a", "10.0.1.1", "80/TCP"),
		deployment("y/web", "app=web", "http:8080/TCP", []string{"10.0.2.1", "10.0.2.2"}),
		deployment("y/db", "app=db", "5432/TCP", nil),
	}
	return cluster(append(parts, more...)...)
}

const allowWebFromX = `
metadata: {name: allow-web, namespace: "y"}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: x}}}]
    ports: [{port: http}]`

const denyEgressButTestNet = `
metadata: {name: egress, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 203.0.113.0/24}}]`

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name         string
		base, head   *netpol.Snapshot
		opts         diff.Options
		gained, lost []string
	}{
		{name: "same", base: shop(), head: shop()},
		{
			name: "deny ingress in y", base: shop(), head: shop(denyIngress("y")),
			lost: []string{
				"0.0.0.0/0 -> y/db TCP/80 allowed>denied", "0.0.0.0/0 -> y/db TCP/5432 allowed>denied", "0.0.0.0/0 -> y/db TCP/8080 allowed>denied",
				"0.0.0.0/0 -> y/web TCP/80 allowed>denied", "0.0.0.0/0 -> y/web TCP/5432 allowed>denied", "0.0.0.0/0 -> y/web TCP/8080 allowed>denied",
				"x/a -> y/db TCP/80 allowed>denied", "x/a -> y/db TCP/5432 allowed>denied", "x/a -> y/db TCP/8080 allowed>denied",
				"x/a -> y/web TCP/80 allowed>denied", "x/a -> y/web TCP/5432 allowed>denied", "x/a -> y/web TCP/8080 allowed>denied",
				"y/db -> y/web TCP/80 allowed>denied", "y/db -> y/web TCP/5432 allowed>denied", "y/db -> y/web TCP/8080 allowed>denied",
				"y/web -> y/db TCP/80 allowed>denied", "y/web -> y/db TCP/5432 allowed>denied", "y/web -> y/db TCP/8080 allowed>denied",
				"y/web -> y/web TCP/80 allowed>denied", "y/web -> y/web TCP/5432 allowed>denied", "y/web -> y/web TCP/8080 allowed>denied",
			},
		},
		{
			name: "allow web from x", base: shop(denyIngress("y")), head: shop(denyIngress("y"), policy(allowWebFromX)),
			gained: []string{"x/a -> y/web TCP/8080 denied>allowed"},
		},
		{
			name: "namespace limit", base: shop(), head: shop(denyIngress("y")), opts: diff.Options{Namespace: "x"},
			lost: []string{
				"x/a -> y/db TCP/80 allowed>denied", "x/a -> y/db TCP/5432 allowed>denied", "x/a -> y/db TCP/8080 allowed>denied",
				"x/a -> y/web TCP/80 allowed>denied", "x/a -> y/web TCP/5432 allowed>denied", "x/a -> y/web TCP/8080 allowed>denied",
			},
		},
		{
			name: "egress to a range only", base: shop(), head: shop(policy(denyEgressButTestNet)),
			lost: []string{
				"x/a -> 0.0.0.0/0 except 203.0.113.0/24 TCP/80 allowed>denied", "x/a -> 0.0.0.0/0 except 203.0.113.0/24 TCP/5432 allowed>denied",
				"x/a -> 0.0.0.0/0 except 203.0.113.0/24 TCP/8080 allowed>denied",
				"x/a -> y/db TCP/80 allowed>denied", "x/a -> y/db TCP/5432 allowed>denied", "x/a -> y/db TCP/8080 allowed>denied",
				"x/a -> y/web TCP/80 allowed>denied", "x/a -> y/web TCP/5432 allowed>denied", "x/a -> y/web TCP/8080 allowed>denied",
			},
		},
		{
			name: "one pod of two", base: shop(), head: shop(policy(`
metadata: {name: canary, namespace: "y"}
spec: {podSelector: {matchLabels: {track: canary}}, policyTypes: [Ingress]}`)),
			lost: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := diff.Compare(tc.base, tc.head, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(orEmpty(tc.gained), lines(r.Gained)); d != "" {
				t.Errorf("gained (-want +got):\n%s", d)
			}
			if d := cmp.Diff(orEmpty(tc.lost), lines(r.Lost)); d != "" {
				t.Errorf("lost (-want +got):\n%s", d)
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const isolateCanary = `
metadata: {name: canary, namespace: "y"}
spec: {podSelector: {matchLabels: {track: canary}}, policyTypes: [Ingress]}`

func TestCompareShapes(t *testing.T) {
	canary := func(more ...part) *netpol.Snapshot {
		return cluster(append([]part{
			namespace("x", ""), namespace("y", ""),
			pod("x/a", "app=a", "10.0.1.1", "80/TCP"),
			deployment("y/web", "app=web", "80/TCP", []string{"10.0.2.1", "10.0.2.2"}, "", "track=canary"),
		}, more...)...)
	}
	host := func(more ...part) *netpol.Snapshot {
		return cluster(append([]part{
			namespace("x", ""), node("n1", "172.16.0.1", "10.0.1.0/24"), node("n2", "172.16.0.2", "10.0.2.0/24"),
			pod("x/a", "app=a", "10.0.1.1", "80/TCP"), pod("x/b", "app=b", "10.0.2.1", "80/TCP"),
			hostPod("x/agent-1", "app=agent", "n1", "172.16.0.1", "80/TCP"),
		}, more...)...)
	}
	for _, tc := range []struct {
		name         string
		base, head   *netpol.Snapshot
		gained, lost []string
	}{
		{
			name: "one pod of two isolated", base: canary(), head: canary(policy(isolateCanary)),
			lost: []string{"0.0.0.0/0 -> y/web TCP/80 allowed>partial", "x/a -> y/web TCP/80 allowed>partial", "y/web -> y/web TCP/80 allowed>partial"},
		},
		{
			name: "the rest isolated too", base: canary(policy(isolateCanary)), head: canary(denyIngress("y")),
			lost: []string{"0.0.0.0/0 -> y/web TCP/80 partial>denied", "x/a -> y/web TCP/80 partial>denied", "y/web -> y/web TCP/80 partial>denied"},
		},
		{
			// x/a runs on n1, where the agent uses the host network: they
			// may always talk; x/b on n2 may not any more.
			name: "own node always allowed", base: host(), head: host(policy(`
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`), func(s *netpol.Snapshot) {
				s.Pods[0].Spec.NodeName, s.Pods[1].Spec.NodeName = "n1", "n2"
			}),
			lost: []string{
				"0.0.0.0/0 -> x/a TCP/80 allowed>denied", "0.0.0.0/0 -> x/b TCP/80 allowed>denied",
				"x/a -> 0.0.0.0/0 TCP/80 allowed>denied", "x/a -> x/b TCP/80 allowed>denied",
				"x/agent-1 -> x/b TCP/80 allowed>denied",
				"x/b -> 0.0.0.0/0 TCP/80 allowed>denied", "x/b -> x/a TCP/80 allowed>denied", "x/b -> x/agent-1 TCP/80 allowed>denied",
			},
		},
		{
			name: "ipv6 world", base: cluster(namespace("x", ""), pod("x/a", "", "fd00::1", "80/TCP")),
			head: cluster(namespace("x", ""), pod("x/a", "", "fd00::1", "80/TCP"), policy(`
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}`)),
			lost: []string{"0.0.0.0/0 -> x/a TCP/80 allowed>denied", "::/0 -> x/a TCP/80 allowed>denied"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := diff.Compare(tc.base, tc.head, diff.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(orEmpty(tc.gained), lines(r.Gained)); d != "" {
				t.Errorf("gained (-want +got):\n%s", d)
			}
			if d := cmp.Diff(orEmpty(tc.lost), lines(r.Lost)); d != "" {
				t.Errorf("lost (-want +got):\n%s", d)
			}
		})
	}
}

func TestInventory(t *testing.T) {
	base := shop()
	head := shop(namespace("z", ""), pod("z/tool", "", "10.0.3.1", ""),
		deployment("z/api", "app=api", "8080/TCP", []string{"10.0.3.2"}))
	head.Pods = head.Pods[1:] // x/a goes
	r, err := diff.Compare(base, head, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	appeared := diff.Inventory{
		Namespaces: []string{"z"},
		Workloads:  []diff.Peer{{Kind: graph.KindDeployment, Namespace: "z", Name: "api"}},
		Pods:       []string{"z/api-5d8f9-b", "z/tool"},
	}
	disappeared := diff.Inventory{Namespaces: []string{}, Workloads: []diff.Peer{}, Pods: []string{"x/a"}}
	if d := cmp.Diff(appeared, r.Appeared, cmpopts.EquateComparable(netip.Prefix{})); d != "" {
		t.Errorf("appeared (-want +got):\n%s", d)
	}
	if d := cmp.Diff(disappeared, r.Disappeared, cmpopts.EquateComparable(netip.Prefix{})); d != "" {
		t.Errorf("disappeared (-want +got):\n%s", d)
	}
	if len(r.Gained)+len(r.Lost) != 0 || !r.Changed() {
		t.Errorf("gained %d, lost %d, changed %v: want 0, 0, true (new peers are not compared)", len(r.Gained), len(r.Lost), r.Changed())
	}
	r, _ = diff.Compare(base, head, diff.Options{Namespace: "y"})
	if r.Changed() {
		t.Errorf("in namespace y: changed, want unchanged: %+v %+v", r.Appeared, r.Disappeared)
	}
}

func TestCompareInvalid(t *testing.T) {
	bad := shop(policy(`
metadata: {name: bad, namespace: x}
spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: nonsense}}]}]}`))
	if _, err := diff.Compare(shop(), bad, diff.Options{}); err == nil || !strings.HasPrefix(err.Error(), "head: ") {
		t.Errorf("Compare(invalid head) = %v, want an error starting with head:", err)
	}
}

// TestOwnerlessPods: a pod without owners counts as the one top-level
// workload whose selector matches it, as hand-written manifests list them.
func TestOwnerlessPods(t *testing.T) {
	side := func(more ...part) *netpol.Snapshot {
		return cluster(append([]part{
			namespace("x", ""), pod("x/a", "app=a", "10.0.1.1", "80/TCP"),
			deployment("x/api", "app=api", "80/TCP", nil), pod("x/api-7b9f-x", "app=api", "10.0.1.2", "80/TCP"),
			deployment("x/one", "tier=t", "80/TCP", nil), deployment("x/two", "tier=t", "80/TCP", nil), pod("x/both", "tier=t", "10.0.1.3", "80/TCP"),
		}, more...)...)
	}
	r, err := diff.Compare(side(), side(denyIngress("x")), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0.0.0.0/0 -> x/a TCP/80 allowed>denied", "0.0.0.0/0 -> x/api TCP/80 allowed>denied", "0.0.0.0/0 -> x/both TCP/80 allowed>denied",
		"x/a -> x/api TCP/80 allowed>denied", "x/a -> x/both TCP/80 allowed>denied",
		"x/api -> x/a TCP/80 allowed>denied", "x/api -> x/both TCP/80 allowed>denied",
		"x/both -> x/a TCP/80 allowed>denied", "x/both -> x/api TCP/80 allowed>denied",
	}
	if d := cmp.Diff(want, lines(r.Lost)); d != "" {
		t.Errorf("lost (-want +got):\n%s", d)
	}
	if k := r.Lost[1].To.Kind; k != graph.KindDeployment {
		t.Errorf("x/api is a %s, want a Deployment", k)
	}
}
