package netpoltest

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelMatcher reports whether a label selector matches a set of labels. The
// selector is never nil: a nil peer selector means "not set" and is handled
// by the caller. A nil set is a set without labels.
type LabelMatcher func(sel *metav1.LabelSelector, set map[string]string) bool

// MatchAPI matches a selector as the Kubernetes API documents it (and as
// k8s.io/apimachinery/pkg/labels implements it). It is written from the
// documentation, not from apimachinery, so that it can check the users of
// apimachinery:
//
//   - LabelSelector: "The result of matchLabels and matchExpressions are
//     ANDed. An empty label selector matches all objects."
//   - matchLabels: "A single {key,value} in the matchLabels map is equivalent
//     to an element of matchExpressions, whose key field is "key", the
//     operator is "In", and the values array contains only "value". The
//     requirements are ANDed." So {k: ""} needs k present with an empty
//     value.
//   - operators: "Valid operators are In, NotIn, Exists and DoesNotExist."
//     For NotIn the labels concept page says "selects all resources with key
//     equal to tier and values other than frontend and backend, and all
//     resources with no labels with the tier key": NotIn matches a missing
//     key.
func MatchAPI(sel *metav1.LabelSelector, set map[string]string) bool {
	for k, v := range sel.MatchLabels {
		req := metav1.LabelSelectorRequirement{Key: k, Operator: metav1.LabelSelectorOpIn, Values: []string{v}}
		if !requirementMatches(req, set) {
			return false
		}
	}
	for _, req := range sel.MatchExpressions {
		if !requirementMatches(req, set) {
			return false
		}
	}
	return true
}

// requirementMatches applies one requirement with the documented semantics.
// An unknown operator matches nothing (validation rejects it).
func requirementMatches(req metav1.LabelSelectorRequirement, set map[string]string) bool {
	v, has := set[req.Key]
	switch req.Operator {
	case metav1.LabelSelectorOpIn:
		return has && slices.Contains(req.Values, v)
	case metav1.LabelSelectorOpNotIn:
		return !has || !slices.Contains(req.Values, v)
	case metav1.LabelSelectorOpExists:
		return has
	case metav1.LabelSelectorOpDoesNotExist:
		return !has
	}
	return false
}

// CyclonusBugs selects label-selector bugs of cyclonus v0.5.6
// (github.com/mattfenwick/cyclonus pkg/kube/labelselector.go, shared by
// policy-assistant). Its zero value is no bug: MatchAPI.
type CyclonusBugs uint8

// The two label-selector bugs of cyclonus v0.5.6.
const (
	// NotInMissingKey: IsMatchExpressionMatchForLabels returns false for
	// NotIn when the key is missing ("if the key isn't there, it's not a
	// match"), where the API matches.
	NotInMissingKey CyclonusBugs = 1 << iota
	// EmptyValueMatchesMissing: IsLabelsMatchLabelSelector tests
	// matchLabels with `labels[key] != val`, so {k: ""} also matches objects
	// without k, where the API needs k present.
	EmptyValueMatchesMissing

	// AllCyclonusBugs is every bug: cyclonus v0.5.6 as it is.
	AllCyclonusBugs = NotInMissingKey | EmptyValueMatchesMissing
)

// String names the bugs, for test output.
func (b CyclonusBugs) String() string {
	switch b {
	case 0:
		return "none"
	case NotInMissingKey:
		return "NotIn with a missing key does not match"
	case EmptyValueMatchesMissing:
		return "matchLabels {k: \"\"} matches objects without k"
	case AllCyclonusBugs:
		return "both cyclonus label-selector bugs"
	}
	return "unknown"
}

// CyclonusMatcher returns a matcher that reproduces the chosen bugs of
// cyclonus v0.5.6 and otherwise behaves as MatchAPI. With AllCyclonusBugs it
// is cyclonus's IsLabelsMatchLabelSelector exactly: In and Exists and
// DoesNotExist are right there, and so is matchLabels with a non-empty
// value (a missing key reads as "", which differs from the value).
func CyclonusMatcher(bugs CyclonusBugs) LabelMatcher {
	return func(sel *metav1.LabelSelector, set map[string]string) bool {
		for k, v := range sel.MatchLabels {
			got, has := set[k]
			if bugs&EmptyValueMatchesMissing != 0 {
				has = true // labels[key] != val: a missing key reads as ""
			}
			if !has || got != v {
				return false
			}
		}
		for _, req := range sel.MatchExpressions {
			if _, has := set[req.Key]; !has && req.Operator == metav1.LabelSelectorOpNotIn && bugs&NotInMissingKey != 0 {
				return false
			}
			if !requirementMatches(req, set) {
				return false
			}
		}
		return true
	}
}
