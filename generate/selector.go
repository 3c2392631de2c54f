package generate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/netpol/netpol/graph"
)

// preferredKeys are tried first, in this order, when choosing a workload's
// selector: the recommended and the customary application labels, then
// labels that tell instances, components and versions apart.
var preferredKeys = []string{
	"app.kubernetes.io/name", "app", "k8s-app", "name",
	"app.kubernetes.io/instance", "app.kubernetes.io/component", "component", "release",
	"app.kubernetes.io/part-of", "tier", "role",
	"app.kubernetes.io/version", "version", "track",
}

// primaryKeys name the application; the first one a workload has is the
// base of its selector.
var primaryKeys = []string{"app.kubernetes.io/name", "app", "k8s-app", "name"}

// unstableKeys are labels that controllers set per revision, per pod or
// per run: a selector on them would miss the workload's next pods.
var unstableKeys = map[string]bool{
	"pod-template-hash":                        true,
	"controller-revision-hash":                 true,
	"pod-template-generation":                  true,
	"statefulset.kubernetes.io/pod-name":       true,
	"apps.kubernetes.io/pod-index":             true,
	"controller-uid":                           true,
	"batch.kubernetes.io/controller-uid":       true,
	"job-name":                                 true,
	"batch.kubernetes.io/job-name":             true,
	"batch.kubernetes.io/job-completion-index": true,
}

// stable reports whether a label key may be part of a selector. The
// job-name labels are stable for a Job itself, not for a CronJob's runs.
func stable(key string, kind graph.Kind) bool {
	if kind == graph.KindJob && (key == "job-name" || key == "batch.kubernetes.io/job-name") {
		return true
	}
	return !unstableKeys[key] && !strings.HasSuffix(key, "/controller-uid")
}

// maxSearch is the largest number of labels tried in every combination;
// beyond it, every stable label is used.
const maxSearch = 4

// selectorChoice is the podSelector chosen for a workload.
type selectorChoice struct {
	labels map[string]string
	// exact is set when labels select exactly the workload's endpoints in
	// its namespace.
	exact bool
	// problem says why no exact selector exists ("" when exact).
	problem string
}

// chooseSelector returns the smallest set of stable labels of w that
// selects w's endpoints and no other endpoint of its namespace: its primary
// application label (the first of primaryKeys it has) plus as few other
// labels as needed, tried in the order of preferredKeys. When none exists,
// it returns every stable label and says which workloads they also select.
func (inv *inventory) chooseSelector(w *workload) selectorChoice {
	keys := candidateKeys(w.labels, w.node.Kind)
	if len(keys) == 0 {
		return selectorChoice{problem: "its pods share no stable label: no podSelector can pick them out"}
	}
	var others []map[string]string
	for _, o := range inv.byNamespace[w.node.Namespace] {
		if o == w {
			continue
		}
		for _, i := range o.endpoints {
			others = append(others, inv.endpoints[i].Labels)
		}
	}
	excludes := func(sel []string) bool {
		for _, l := range others {
			if matchesKeys(w.labels, sel, l) {
				return false
			}
		}
		return true
	}
	// The primary application label, when there is one, is always part of
	// the selector; other labels are added only as needed.
	base, rest := []string(nil), keys
	if slices.Contains(primaryKeys, keys[0]) {
		base, rest = keys[:1], keys[1:]
	}
	if len(base) > 0 && excludes(base) {
		return selectorChoice{labels: pick(w.labels, base), exact: true}
	}
	for size := 1; size <= min(maxSearch, len(rest)); size++ {
		if sel, ok := firstCombination(rest, size, func(sel []string) bool { return excludes(append(slices.Clip(base), sel...)) }); ok {
			return selectorChoice{labels: pick(w.labels, append(slices.Clip(base), sel...)), exact: true}
		}
	}
	if len(keys) > maxSearch && excludes(keys) {
		return selectorChoice{labels: pick(w.labels, keys), exact: true}
	}
	all := pick(w.labels, keys)
	var also []string
	for _, o := range inv.byNamespace[w.node.Namespace] {
		if o == w {
			continue
		}
		for _, i := range o.endpoints {
			if matchesKeys(w.labels, keys, inv.endpoints[i].Labels) {
				also = append(also, display(o.node))
				break
			}
		}
	}
	return selectorChoice{labels: all,
		problem: fmt.Sprintf("no exact podSelector: %s also selects %s", formatLabels(all), strings.Join(also, ", "))}
}

// candidateKeys returns the stable keys of labels, preferred keys first in
// their order, then the others sorted.
func candidateKeys(labels map[string]string, kind graph.Kind) []string {
	var out []string
	for _, k := range preferredKeys {
		if _, ok := labels[k]; ok && stable(k, kind) {
			out = append(out, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if stable(k, kind) && !slices.Contains(preferredKeys, k) {
			out = append(out, k)
		}
	}
	return out
}

// firstCombination returns the first combination of size keys, in the
// order of keys, that ok accepts.
func firstCombination(keys []string, size int, ok func([]string) bool) ([]string, bool) {
	idx := make([]int, size)
	for i := range idx {
		idx[i] = i
	}
	sel := make([]string, size)
	for {
		for i, j := range idx {
			sel[i] = keys[j]
		}
		if ok(sel) {
			return sel, true
		}
		i := size - 1
		for i >= 0 && idx[i] == len(keys)-size+i {
			i--
		}
		if i < 0 {
			return nil, false
		}
		idx[i]++
		for j := i + 1; j < size; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

// matchesKeys reports whether the selector made of labels' values for keys
// matches other.
func matchesKeys(labels map[string]string, keys []string, other map[string]string) bool {
	for _, k := range keys {
		if v, ok := other[k]; !ok || v != labels[k] {
			return false
		}
	}
	return true
}

func pick(labels map[string]string, keys []string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = labels[k]
	}
	return out
}

// formatLabels renders labels as "{k=v,k2=v2}", sorted.
func formatLabels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
