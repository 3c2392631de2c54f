package diff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// TestCompareMatchesBruteForce checks the per-class computation against
// the definition: for every pair of peers and every probe, the state over
// every pair of their endpoints, evaluated one by one, on generated
// clusters whose pods belong to Deployments (some pods with an extra
// label, hostNetwork pods among them) and whose head drops and adds
// policies.
func TestCompareMatchesBruteForce(t *testing.T) {
	size := nt.Size{Namespaces: 4, Pods: 24, Policies: 8, Externals: 0, Workloads: true, Cluster: true}
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := range int64(seeds) {
		for _, size := range []nt.Size{size, nt.SmallCluster} {
			base := nt.Generate(seed, size)
			r := rand.New(rand.NewPCG(uint64(seed), 5))
			ownPods(base, r)
			head := mutate(base, nt.Generate(seed+1000, size), r)
			for _, o := range []Options{{}, {IPBlockIgnoresPods: true}, {Namespace: base.Namespaces[len(base.Namespaces)-1].Name}} {
				rep, err := Compare(base, head, o)
				if err != nil {
					t.Fatal(err)
				}
				wantGained, wantLost := bruteForce(t, base, head, o)
				if d := cmp.Diff(wantGained, render(rep.Gained)); d != "" {
					t.Fatalf("seed %d %+v %+v: gained (-brute force +Compare):\n%s", seed, size, o, d)
				}
				if d := cmp.Diff(wantLost, render(rep.Lost)); d != "" {
					t.Fatalf("seed %d %+v %+v: lost (-brute force +Compare):\n%s", seed, size, o, d)
				}
			}
		}
	}
}

func render(cs []Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s -> %s %s %s>%s", c.From.Kind, c.From, c.To, c.Probe, c.Before, c.After))
	}
	slices.Sort(out)
	return out
}

// bruteForce evaluates every pair of endpoints of every pair of peers.
func bruteForce(t *testing.T, base, head *netpol.Snapshot, o Options) (gained, lost []string) {
	c, err := newComparison(base, head, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	gained, lost = []string{}, []string{}
	for a := range int32(len(c.u.peers)) {
		for b := range int32(len(c.u.peers)) {
			pa, pb := c.u.peers[a], c.u.peers[b]
			if !c.u.both(a) || !c.u.both(b) || pa.IsExternal() && pb.IsExternal() || !c.scoped(a) && !c.scoped(b) {
				continue
			}
			for k, p := range c.probes {
				var st [2]State
				for s := range 2 {
					var allowed, denied bool
					for _, x := range c.u.sides[s][a].eps {
						for _, y := range c.u.sides[s][b].eps {
							if x == y {
								continue
							}
							v := c.sides[s].eng.Evaluate(simulate.EndpointID(x), simulate.EndpointID(y), p).Verdict
							allowed, denied = allowed || v == simulate.Allowed, denied || v != simulate.Allowed
						}
					}
					st[s] = combine(allowed, denied)
				}
				if st[0] == st[1] || st[0] == NoPairs || st[1] == NoPairs {
					continue
				}
				line := fmt.Sprintf("%s %s -> %s %s %s>%s", pa.Kind, pa, pb, c.probes[k], st[0], st[1])
				if st[1] > st[0] {
					gained = append(gained, line)
				} else {
					lost = append(lost, line)
				}
			}
		}
	}
	slices.Sort(gained)
	slices.Sort(lost)
	return gained, lost
}

func combine(allowed, denied bool) State {
	switch {
	case allowed && denied:
		return Partial
	case allowed:
		return Allowed
	case denied:
		return Denied
	}
	return NoPairs
}

// ownPods makes the pods of each app label the pods of a Deployment, through
// a ReplicaSet, and gives one pod in five a track=canary label.
func ownPods(s *netpol.Snapshot, r *rand.Rand) {
	yes := true
	seen := map[string]bool{}
	for i := range s.Pods {
		p := &s.Pods[i]
		app := p.Labels["app"]
		if app == "" {
			continue
		}
		key := p.Namespace + "/" + app
		if !seen[key] {
			seen[key] = true
			d := netpol.Workload{Kind: "Deployment", ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: app}}
			d.Template.Labels = p.Labels
			rs := netpol.Workload{Kind: "ReplicaSet", ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: app + "-rs",
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: app, Controller: &yes}}}}
			s.Workloads = append(s.Workloads, d, rs)
		}
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: app + "-rs", Controller: &yes}}
		if r.IntN(5) == 0 {
			l := map[string]string{"track": "canary"}
			for k, v := range p.Labels {
				l[k] = v
			}
			p.Labels = l
		}
	}
}

// mutate returns a copy of base whose policies lose some, gain some of
// other's, and gain one that isolates canary pods.
func mutate(base, other *netpol.Snapshot, r *rand.Rand) *netpol.Snapshot {
	head := *base
	head.Policies = nil
	for _, np := range base.Policies {
		if r.IntN(4) != 0 {
			head.Policies = append(head.Policies, np)
		}
	}
	for i, np := range other.Policies {
		if r.IntN(3) == 0 {
			np.Name = fmt.Sprintf("added-%d", i)
			head.Policies = append(head.Policies, np)
		}
	}
	ns := base.Namespaces[r.IntN(len(base.Namespaces))].Name
	head.Policies = append(head.Policies, networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "canary"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"track": "canary"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	})
	return &head
}
