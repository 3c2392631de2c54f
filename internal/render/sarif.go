package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/netpol/netpol/audit"
)

// The SARIF 2.1.0 subset that GitHub code scanning reads
// (docs.github.com, "SARIF support for code scanning").
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Version        string      `json:"version,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifText          `json:"shortDescription"`
		FullDescription      sarifText          `json:"fullDescription"`
		Help                 sarifHelp          `json:"help"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
		Properties           sarifRuleProps     `json:"properties"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifHelp struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifRuleProps struct {
		Tags             []string `json:"tags"`
		Precision        string   `json:"precision"`
		SecuritySeverity string   `json:"security-severity"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool                `json:"executionSuccessful"`
		Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level   string    `json:"level"`
		Message sarifText `json:"message"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]string `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// sarifLevel maps a severity to a SARIF level: error, warning or note.
func sarifLevel(s audit.Severity) string {
	switch {
	case s >= audit.High:
		return "error"
	case s == audit.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity maps a severity to GitHub's security-severity score,
// inside the band GitHub shows as the same severity.
var securitySeverity = map[audit.Severity]string{
	audit.Critical: "9.5", audit.High: "8.0", audit.Medium: "5.5", audit.Low: "3.0", audit.Info: "0.1",
}

// AuditSARIF prints the audit as a SARIF 2.1.0 log that GitHub code
// scanning accepts: one rule per check (with its security-severity), one
// result per finding, located at the file and line of the object or field
// when the input was files, and always at the object and field as a logical
// location. A stable fingerprint (check, object, field) lets code scanning
// follow a finding across runs. Notes become tool execution notifications.
func AuditSARIF(w io.Writer, a *Audit) error {
	driver := sarifDriver{Name: "netpol", InformationURI: "https://github.com/netpol/netpol", Version: a.Version, Rules: []sarifRule{}}
	for _, c := range a.Checks {
		driver.Rules = append(driver.Rules, sarifRule{
			ID: c.ID, Name: ruleName(c.ID),
			ShortDescription:     sarifText{c.Title},
			FullDescription:      sarifText{c.Why},
			Help:                 sarifHelp{Text: c.Why, Markdown: "**" + c.Title + "**\n\n" + c.Why + "\n\nEach result names the recipe or command that fixes it; see `netpol recipe list`."},
			DefaultConfiguration: sarifConfiguration{sarifLevel(c.Severity)},
			Properties:           sarifRuleProps{Tags: []string{"security", "kubernetes", "networkpolicy"}, Precision: "high", SecuritySeverity: securitySeverity[c.Severity]},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	for _, n := range a.Notes {
		inv.Notifications = append(inv.Notifications, sarifNotification{Level: "note", Message: sarifText{n}})
	}
	run := sarifRun{Tool: sarifTool{driver}, Invocations: []sarifInvocation{inv}, Results: []sarifResult{}}
	for i, f := range a.Findings {
		run.Results = append(run.Results, sarifResultOf(f, a.location(i), slices.IndexFunc(a.Checks, func(c audit.Check) bool { return c.ID == f.Check })))
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifResultOf(f audit.Finding, loc Location, rule int) sarifResult {
	name := f.Object.String()
	fqn := f.Object.Kind + "/" + strings.TrimPrefix(f.Object.Namespace+"/"+f.Object.Name, "/")
	msg := name + ": " + f.Message + ". Fix: " + f.Fix
	if f.Field != "" {
		fqn += "#" + f.Field
		msg = name + " " + f.Field + ": " + f.Message + ". Fix: " + f.Fix
	}
	l := sarifLocation{LogicalLocations: []sarifLogical{{Name: name, FullyQualifiedName: fqn, Kind: "resource"}}}
	if uri, base, ok := artifactURI(loc.File); ok {
		l.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{uri, base}, Region: sarifRegion{max(loc.Line, 1)}}
	}
	sum := sha256.Sum256([]byte(f.Check + "\x00" + fqn))
	return sarifResult{
		RuleID: f.Check, RuleIndex: rule, Level: sarifLevel(f.Severity),
		Message:             sarifText{msg},
		Locations:           []sarifLocation{l},
		PartialFingerprints: map[string]string{"netpolFinding/v1": hex.EncodeToString(sum[:16])},
		Properties:          map[string]string{"severity": f.Severity.String()},
	}
}

// artifactURI turns a file as given on the command line into a SARIF
// artifact URI: relative paths (what code scanning matches against the
// repository) relative to %SRCROOT%, absolute ones as file URIs. Standard
// input has none.
func artifactURI(file string) (uri, base string, ok bool) {
	if file == "" || strings.HasPrefix(file, "<") {
		return "", "", false
	}
	p := filepath.ToSlash(filepath.Clean(file))
	if filepath.IsAbs(file) {
		return "file://" + p, "", true
	}
	return p, "%SRCROOT%", true
}

// ruleName turns a check ID into a rule name: "egress-to-metadata" is
// "EgressToMetadata".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part == "" {
			continue
		}
		r := []rune(part)
		b.WriteRune(unicode.ToUpper(r[0]))
		b.WriteString(string(r[1:]))
	}
	return b.String()
}
