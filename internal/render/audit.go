package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netpol/netpol/audit"
)

// Audit is an audit report to present: the findings, where each one is in
// the input, and the checks that ran.
type Audit struct {
	Findings []audit.Finding
	// Locations are where each finding's object (or field) is, in the
	// same order as Findings; a zero Location is unknown.
	Locations []Location
	// Notes say which checks could not run fully.
	Notes []string
	// Checks are every check, for the SARIF rules and the "why" section.
	Checks []audit.Check
	// Version is netpol's version, for SARIF.
	Version string
}

// Location is a line of an input file.
type Location struct {
	File string // as given on the command line
	Line int    // 1-based; 0 when unknown
}

// String returns "file:line", "file" or "".
func (l Location) String() string {
	if l.File == "" || l.Line == 0 {
		return l.File
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

func (a *Audit) location(i int) Location {
	if i < len(a.Locations) {
		return a.Locations[i]
	}
	return Location{}
}

// yellow is the ANSI colour of medium findings.
const yellow = "\x1b[33m"

var severityColor = map[audit.Severity]string{audit.Critical: red + bold, audit.High: red, audit.Medium: yellow}

// AuditTable prints the findings for people: one aligned line per finding
// (severity, check, object, field and, when known, file:line) with its
// message and fix below it, a count by severity, and why each check that
// found something matters.
func AuditTable(w io.Writer, a *Audit, o Options) error {
	var b strings.Builder
	if len(a.Findings) == 0 {
		b.WriteString("No findings.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	rows := [][]string{{"SEVERITY", "CHECK", "OBJECT", "FIELD", "WHERE"}}
	for i, f := range a.Findings {
		rows = append(rows, []string{f.Severity.String(), f.Check, f.Object.String(), f.Field, a.location(i).String()})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for j, c := range r {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	indent := strings.Repeat(" ", widths[0]+2)
	for i, r := range rows {
		var line strings.Builder
		for j, c := range r {
			if j > 0 {
				line.WriteString("  ")
			}
			if i > 0 && j == 0 {
				line.WriteString(o.paint(severityColor[a.Findings[i-1].Severity], c))
			} else {
				line.WriteString(c)
			}
			line.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)))
		}
		if i > 1 {
			b.WriteString("\n")
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		if i > 0 {
			f := a.Findings[i-1]
			b.WriteString(indent + f.Message + "\n")
			b.WriteString(indent + "fix: " + f.Fix + "\n")
		}
	}
	b.WriteString("\n" + auditSummary(a.Findings) + "\n")
	b.WriteString("\nWhy it matters:\n")
	for _, c := range a.Checks {
		if slices.ContainsFunc(a.Findings, func(f audit.Finding) bool { return f.Check == c.ID }) {
			b.WriteString(wrap(c.ID+": "+c.Why, "  ", 78))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// auditSummary counts findings by severity: "5 findings: 1 high, 4 low".
func auditSummary(fs []audit.Finding) string {
	var parts []string
	for s := audit.Critical; s >= audit.Info; s-- {
		n := 0
		for _, f := range fs {
			if f.Severity == s {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	noun := "findings"
	if len(fs) == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("%d %s: %s", len(fs), noun, strings.Join(parts, ", "))
}

// auditJSON is the stable JSON shape of an audit.
type auditJSON struct {
	Findings []findingJSON `json:"findings"`
	// Summary counts the findings by severity, and in total.
	Summary map[string]int `json:"summary"`
	Notes   []string       `json:"notes"`
}

type findingJSON struct {
	Check    string       `json:"check"`
	Severity string       `json:"severity"`
	Object   audit.Object `json:"object"`
	Field    string       `json:"field,omitempty"`
	Message  string       `json:"message"`
	Why      string       `json:"why"`
	Fix      string       `json:"fix"`
	File     string       `json:"file,omitempty"`
	Line     int          `json:"line,omitempty"`
}

// AuditJSON prints the audit as a stable JSON object: {"findings":
// [{"check", "severity", "object": {"kind", "namespace", "name"}, "field",
// "message", "why", "fix", "file", "line"}], "summary": {"critical": N,
// "high": N, "medium": N, "low": N, "info": N, "total": N}, "notes": [...]},
// findings in the report's order.
func AuditJSON(w io.Writer, a *Audit) error {
	out := auditJSON{Findings: []findingJSON{}, Summary: map[string]int{"total": len(a.Findings)}, Notes: a.Notes}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, s := range audit.Severities() {
		out.Summary[s] = 0
	}
	for i, f := range a.Findings {
		loc := a.location(i)
		out.Findings = append(out.Findings, findingJSON{
			Check: f.Check, Severity: f.Severity.String(), Object: f.Object, Field: f.Field,
			Message: f.Message, Why: f.Why, Fix: f.Fix, File: loc.File, Line: loc.Line,
		})
		out.Summary[f.Severity.String()]++
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
