package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity ranks findings. The zero value is SeverityUnknown, which no
// finding has.
type Severity uint8

// The severities, from least to most severe.
const (
	SeverityUnknown Severity = iota
	Info
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"unknown", "info", "low", "medium", "high", "critical"}

// String returns "info", "low", "medium", "high" or "critical".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// Severities returns the names of the severities, least severe first.
func Severities() []string { return slices.Clone(severityNames[1:]) }

// ParseSeverity parses a severity name, in any case.
func ParseSeverity(s string) (Severity, error) {
	i := slices.Index(severityNames, strings.ToLower(s))
	if i <= 0 {
		return SeverityUnknown, fmt.Errorf("unknown severity %q: want one of %s", s, strings.Join(Severities(), ", "))
	}
	return Severity(i), nil
}

// Object names the Kubernetes object a finding is about.
type Object struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String returns "Kind namespace/name", or "Kind name" without a namespace.
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Check describes one check of the audit.
type Check struct {
	// ID names the check in findings, output and SARIF rules.
	ID string
	// Title says what the check finds, in a few words.
	Title string
	// Severity is the severity of its findings, unless a finding says
	// otherwise (egress findings are often less severe than ingress ones).
	Severity Severity
	// Why says why what it finds matters.
	Why string
}

// Finding is one problem found by a check.
type Finding struct {
	// Check is the ID of the check that found it.
	Check    string   `json:"check"`
	Severity Severity `json:"-"`
	// Object is the object at fault: a NetworkPolicy, a Namespace, or the
	// workload (or Pod) that is exposed.
	Object Object `json:"object"`
	// Field is the field path at fault in Object, such as
	// "spec.egress[0].to[1].ipBlock.cidr"; "" for the object as a whole.
	Field string `json:"field,omitempty"`
	// Message says what is wrong, on one line.
	Message string `json:"message"`
	// Why says why it matters (the check's Why).
	Why string `json:"why"`
	// Fix is the recipe or command that fixes it.
	Fix string `json:"fix"`
}

// Report is the result of an audit.
type Report struct {
	// Findings are sorted by severity (most severe first), then by
	// namespace, object, field and check.
	Findings []Finding
	// Notes say which checks could not run fully, and why (a snapshot
	// without Node objects has no node addresses to check).
	Notes []string
}

// Count returns how many findings are at least as severe as min.
func (r *Report) Count(min Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= min {
			n++
		}
	}
	return n
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Object.Namespace, b.Object.Namespace),
			cmp.Compare(a.Object.Kind, b.Object.Kind),
			cmp.Compare(a.Object.Name, b.Object.Name),
			cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Message, b.Message),
		)
	})
}
