package generate

import (
	"fmt"
	"slices"
	"strings"
)

// maxName is the longest policy name (a DNS subdomain).
const maxName = 253

// assignNames gives each workload policy of ns its workload's name, unless
// that name is taken: by a namespace-wide policy, by another workload of
// the same name, or by a policy of the cluster that netpol does not manage
// (which would be overwritten); it then gets "-<kind>" and, if need be, a
// number. Namespace-wide policies keep their names unless the cluster has
// an unmanaged policy of that name.
func (b *builder) assignNames(ns string, plans []*policyPlan) {
	taken := map[string]bool{}
	for _, np := range b.inv.snap.Policies {
		if np.Namespace == ns && np.Labels[ManagedByLabel] != ManagedByValue {
			taken[np.Name] = true
		}
	}
	// Namespace-wide policies first, then workloads in order: the first
	// workload of a name keeps it.
	order := slices.Clone(plans)
	slices.SortStableFunc(order, func(a, b *policyPlan) int {
		return int(min(a.kind, kindWorkload)) - int(min(b.kind, kindWorkload))
	})
	counts := map[string]int{}
	for _, p := range plans {
		if p.kind == kindWorkload {
			counts[p.name]++
		}
	}
	for _, p := range order {
		name := p.name
		if p.kind == kindWorkload && (counts[name] > 1 || taken[name]) {
			name = trimName(name + "-" + strings.ToLower(string(p.workload.Kind)))
		}
		for i := 2; taken[name]; i++ {
			name = trimName(fmt.Sprintf("%s-%d", p.name, i))
		}
		p.name = name
		taken[name] = true
	}
}

func trimName(s string) string {
	if len(s) > maxName {
		s = strings.TrimRight(s[:maxName], "-.")
	}
	return s
}
