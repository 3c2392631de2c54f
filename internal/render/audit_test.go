package render

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/netpol/netpol/audit"
	"github.com/netpol/netpol/internal/netpoltest"
)

// sampleAudit is a small audit: findings of three severities, with a file
// location, a relative and an absolute path, and none (a live cluster).
func sampleAudit() *Audit {
	checks := audit.Checks()
	why := func(id string) string {
		for _, c := range checks {
			if c.ID == id {
				return c.Why
			}
		}
		return ""
	}
	return &Audit{
		Findings: []audit.Finding{
			{Check: "egress-to-metadata", Severity: audit.High, Object: audit.Object{Kind: "NetworkPolicy", Namespace: "shop", Name: "egress"},
				Field: "spec.egress[0].to[0]", Message: "lets 1 pod (shop/web) reach the cloud metadata address: 169.254.169.254 TCP/80",
				Why: why("egress-to-metadata"), Fix: "add 169.254.169.254/32 to the ipBlock's except, or narrow the rule's destinations"},
			{Check: "no-default-deny-ingress", Severity: audit.Medium, Object: audit.Object{Kind: "Namespace", Name: "shop"},
				Message: "no policy selects every pod of namespace shop for ingress (a podSelector {} with policyType Ingress); selected by no ingress policy: 1 of its 2 pods",
				Why:     why("no-default-deny-ingress"), Fix: "netpol recipe render default-deny-ingress -n shop"},
			{Check: "rule-shadowed", Severity: audit.Low, Object: audit.Object{Kind: "NetworkPolicy", Namespace: "shop", Name: "web"},
				Field: "spec.ingress[1]", Message: "every connection this rule allows is also allowed by shop/all spec.ingress[0], whose policy selects at least the same pods",
				Why: why("rule-shadowed"), Fix: "delete the redundant rule; if the broader rule allows more than intended, narrow it instead"},
			{Check: "pod-not-isolated", Severity: audit.Medium, Object: audit.Object{Kind: "Pod", Namespace: "other", Name: "client"},
				Message: "selected by no ingress policy: every pod and address may connect to it on any port",
				Why:     why("pod-not-isolated"), Fix: "netpol recipe render default-deny-ingress -n other, then allow what it needs (netpol recipe list)"},
		},
		Locations: []Location{{"deploy/./shop.yaml", 12}, {"deploy/shop.yaml", 1}, {"/abs/web.yaml", 0}, {}},
		Notes:     []string{"egress-to-etcd: the snapshot has no Node objects, so no node addresses to probe"},
		Checks:    checks,
		Version:   "v0.1.0",
	}
}

func TestAuditGolden(t *testing.T) {
	tests := []struct {
		name   string
		render func(*bytes.Buffer, *Audit) error
		audit  *Audit
	}{
		{"audit", func(b *bytes.Buffer, a *Audit) error { return AuditTable(b, a, Options{}) }, sampleAudit()},
		{"audit_color", func(b *bytes.Buffer, a *Audit) error { return AuditTable(b, a, Options{Color: true}) }, sampleAudit()},
		{"audit_empty", func(b *bytes.Buffer, a *Audit) error { return AuditTable(b, a, Options{}) }, &Audit{Checks: audit.Checks()}},
		{"audit.json", func(b *bytes.Buffer, a *Audit) error { return AuditJSON(b, a) }, sampleAudit()},
		{"audit_empty.json", func(b *bytes.Buffer, a *Audit) error { return AuditJSON(b, a) }, &Audit{Checks: audit.Checks()}},
		{"audit.sarif", func(b *bytes.Buffer, a *Audit) error { return AuditSARIF(b, a) }, sampleAudit()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.render(&b, tc.audit); err != nil {
				t.Fatal(err)
			}
			netpoltest.Golden(t, filepath.Join("testdata", tc.name+".golden"), b.Bytes())
		})
	}
}

// TestAuditSARIFValid checks the SARIF log against the properties SARIF
// 2.1.0 requires and those GitHub code scanning needs to show a result.
func TestAuditSARIFValid(t *testing.T) {
	for _, a := range []*Audit{sampleAudit(), {Checks: audit.Checks(), Version: "devel"}} {
		var b bytes.Buffer
		if err := AuditSARIF(&b, a); err != nil {
			t.Fatal(err)
		}
		for _, p := range sarifProblems(b.Bytes()) {
			t.Error(p)
		}
	}
	if ps := sarifProblems([]byte(`{"version": "2.0.0", "runs": [{"tool": {}, "results": [{"level": "fatal", "locations": [{}]}]}]}`)); len(ps) < 5 {
		t.Errorf("an invalid log passes: %v", ps)
	}
}

// sarifProblems lists what a SARIF log lacks: the required properties of
// sarifLog, run, tool, toolComponent, reportingDescriptor, result, message
// and location (SARIF 2.1.0 §3.13 to §3.28), valid enums, rule indexes that
// point at their rule, and what GitHub adds (a security-severity between 0
// and 10 on rules; an artifact URI and a start line on located results).
func sarifProblems(data []byte) []string {
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool *struct {
				Driver *struct {
					Name  string `json:"name"`
					Rules []struct {
						ID                   string `json:"id"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful *bool `json:"executionSuccessful"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex *int   `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   *struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil {
		return []string{err.Error()}
	}
	var out []string
	bad := func(s string) { out = append(out, s) }
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	if log.Version != "2.1.0" {
		bad("version must be 2.1.0")
	}
	if log.Runs == nil {
		bad("runs is required")
	}
	for _, run := range log.Runs {
		var rules []struct {
			ID                   string `json:"id"`
			DefaultConfiguration struct {
				Level string `json:"level"`
			} `json:"defaultConfiguration"`
			Properties map[string]any `json:"properties"`
		}
		if run.Tool == nil || run.Tool.Driver == nil || run.Tool.Driver.Name == "" {
			bad("run.tool.driver.name is required")
		} else {
			rules = run.Tool.Driver.Rules
		}
		for _, r := range rules {
			if r.ID == "" || !levels[r.DefaultConfiguration.Level] {
				bad("rule without id or with a bad level: " + r.ID)
			}
			s, _ := r.Properties["security-severity"].(string)
			if f, err := strconv.ParseFloat(s, 64); err != nil || f < 0 || f > 10 {
				bad("rule " + r.ID + ": security-severity must be a number from 0 to 10 as a string")
			}
		}
		for _, inv := range run.Invocations {
			if inv.ExecutionSuccessful == nil {
				bad("invocation.executionSuccessful is required")
			}
		}
		for _, res := range run.Results {
			if res.Message == nil || res.Message.Text == "" {
				bad("result.message.text is required")
			}
			if !levels[res.Level] {
				bad("result.level " + res.Level + " is not a SARIF level")
			}
			if res.RuleIndex == nil || *res.RuleIndex < 0 || *res.RuleIndex >= len(rules) || rules[*res.RuleIndex].ID != res.RuleID {
				bad("result " + res.RuleID + ": ruleIndex does not point at its rule")
			}
			if len(res.Locations) == 0 {
				bad("result " + res.RuleID + ": no location")
			}
			for _, l := range res.Locations {
				if p := l.PhysicalLocation; p != nil && (p.ArtifactLocation.URI == "" || p.Region.StartLine < 1) {
					bad("result " + res.RuleID + ": a physical location needs an artifact URI and a start line")
				}
				if len(l.LogicalLocations) == 0 || l.LogicalLocations[0].FullyQualifiedName == "" {
					bad("result " + res.RuleID + ": no logical location")
				}
			}
		}
	}
	return out
}
