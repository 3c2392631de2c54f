package netpoltest_test

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	nt "github.com/netpol/netpol/internal/netpoltest"
)

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMatchAPIAgreesWithAPIMachinery checks the documentation-based matcher
// against k8s.io/apimachinery on random selectors and label sets.
func TestMatchAPIAgreesWithAPIMachinery(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys, values := []string{"a", "b", "c"}, []string{"x", "y", ""}
	randSet := func() map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			if r.IntN(2) == 0 {
				m[k] = values[r.IntN(len(values))]
			}
		}
		return m
	}
	ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
	for i := range 20000 {
		sel := &metav1.LabelSelector{}
		if r.IntN(2) == 0 {
			sel.MatchLabels = randSet()
		}
		for range r.IntN(3) {
			req := metav1.LabelSelectorRequirement{Key: keys[r.IntN(len(keys))], Operator: ops[r.IntN(len(ops))]}
			if req.Operator == metav1.LabelSelectorOpIn || req.Operator == metav1.LabelSelectorOpNotIn {
				for range 1 + r.IntN(2) {
					req.Values = append(req.Values, values[r.IntN(len(values))])
				}
			}
			sel.MatchExpressions = append(sel.MatchExpressions, req)
		}
		compiled, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		set := randSet()
		if got, want := nt.MatchAPI(sel, set), compiled.Matches(labels.Set(set)); got != want {
			t.Fatalf("case %d: MatchAPI(%v, %v) = %v, apimachinery says %v", i, sel, set, got, want)
		}
		if got := nt.CyclonusMatcher(0)(sel, set); got != nt.MatchAPI(sel, set) {
			t.Fatalf("case %d: CyclonusMatcher(0) differs from MatchAPI on %v, %v", i, sel, set)
		}
	}
}

func TestCyclonusMatcher(t *testing.T) {
	notIn := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"v"}}}}
	empty := &metav1.LabelSelector{MatchLabels: map[string]string{"k": ""}}
	missing, other, emptyValue := map[string]string{"j": "v"}, map[string]string{"k": "w"}, map[string]string{"k": ""}
	tests := []struct {
		name string
		bugs nt.CyclonusBugs
		sel  *metav1.LabelSelector
		set  map[string]string
		want bool
	}{
		{"api: NotIn matches a missing key", 0, notIn, missing, true},
		{"cyclonus: NotIn does not match a missing key", nt.NotInMissingKey, notIn, missing, false},
		{"cyclonus: NotIn with another value", nt.AllCyclonusBugs, notIn, other, true},
		{"api: empty value needs the key", 0, empty, missing, false},
		{"cyclonus: empty value matches a missing key", nt.EmptyValueMatchesMissing, empty, missing, true},
		{"cyclonus: empty value matches an empty value", nt.AllCyclonusBugs, empty, emptyValue, true},
		{"cyclonus: empty value does not match another", nt.AllCyclonusBugs, empty, other, false},
		{"only the NotIn bug: empty value is right", nt.NotInMissingKey, empty, missing, false},
		{"only the empty-value bug: NotIn is right", nt.EmptyValueMatchesMissing, notIn, missing, true},
	}
	for _, tc := range tests {
		if got := nt.CyclonusMatcher(tc.bugs)(tc.sel, tc.set); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
