package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/netpol/netpol/test/oracles/scenario"
	"github.com/netpol/netpol/test/oracles/scenario/scenariotest"
)

// TestVerdicts checks hand-derived verdicts: default-deny plus an allow from
// one pod on a named port, an ipBlock with except, externals (IPv4 and IPv6).
func TestVerdicts(t *testing.T) {
	want := scenariotest.Expectation(t, "../testdata/"+"smoke.expect.json")
	for _, mode := range []string{"-simplify=false", "-simplify"} {
		out := scenariotest.Matrix(t, run, mode, "-scenario", "../testdata/smoke.json")
		if m := out.Mismatches(want); len(m) > 0 {
			t.Errorf("%s: wrong verdicts:\n%s", mode, strings.Join(m, "\n"))
		}
	}
}

// knownBugs are the tuples of cyclonus-bugs.json that cyclonus v0.5.6 gets
// wrong (pkg/kube/labelselector.go).
var knownBugs = []scenario.Key{
	// NotIn [prod] on a pod without the key: apimachinery matches, cyclonus does not.
	{From: "x/noenv", To: "x/server", Probe: "TCP/80"},
	// matchLabels {env: ""}: cyclonus also matches pods that lack env.
	{From: "x/noenv", To: "y/server", Probe: "TCP/80"},
	{From: "x/server", To: "y/server", Probe: "TCP/80"},
}

// TestKnownBugs pins the two label-selector bugs: cyclonus must give the
// opposite of the truth exactly on knownBugs. If it starts to agree, the bug
// list in ../README.md is out of date.
func TestKnownBugs(t *testing.T) {
	want := scenariotest.Expectation(t, "../testdata/"+"cyclonus-bugs.expect.json")
	for i, r := range want.Results {
		if slices.Contains(knownBugs, scenario.Key{From: r.From, To: r.To, Probe: r.Probe}) {
			want.Results[i].Allowed = !r.Allowed
		}
	}
	out := scenariotest.Matrix(t, run, "-scenario", "../testdata/cyclonus-bugs.json")
	if m := out.Mismatches(want); len(m) > 0 {
		t.Errorf("verdicts differ from truth-with-known-bugs:\n%s", strings.Join(m, "\n"))
	}
}

func TestBench(t *testing.T) {
	stdout, stderr, code := scenariotest.CLI(t, run, "", "-bench", "500", "-scenario", "../testdata/smoke.json")
	var res scenario.BenchResult
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Oracle != "cyclonus" || res.Tuples != 500 {
		t.Errorf("bench = %d %q %q", code, stdout, stderr)
	}
}

func TestErrors(t *testing.T) {
	valid := `"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"a","ip":"10.0.0.1"}],"probes":["TCP/80"]`
	tests := []struct{ name, in, want string }{
		{"not json", "{", "decoding scenario"},
		// cyclonus panics on an empty policyTypes; the contract check comes first.
		{"contract", `{` + valid + `,"policies":[{"metadata":{"name":"p","namespace":"x"},"spec":{"podSelector":{}}}]}`, "policyTypes: must be set"},
		// cyclonus panics on an unparsable CIDR at evaluation time.
		{"bad cidr", `{` + valid + `,"policies":[{"metadata":{"name":"p","namespace":"x"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"nope"}}]}]}}]}`, "invalid CIDR"},
		// cyclonus panics on an unknown operator.
		{"bad operator", `{` + valid + `,"policies":[{"metadata":{"name":"p","namespace":"x"},"spec":{"podSelector":{"matchExpressions":[{"key":"k","operator":"Foo"}]},"policyTypes":["Ingress"]}}]}`, "invalid label selector"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := scenariotest.CLI(t, run, tc.in)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("run() = %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}
