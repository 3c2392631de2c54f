package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netpol/netpol/test/oracles/scenario"
	"github.com/netpol/netpol/test/oracles/scenario/scenariotest"
)

// TestVerdicts checks hand-derived verdicts in both modes: default-deny plus
// an allow from one pod on a named port, an ipBlock with except, externals
// (IPv4 and IPv6), and (cyclonus-bugs) the two label-selector corner cases
// that knp gets right.
func TestVerdicts(t *testing.T) {
	for _, file := range []string{"smoke", "cyclonus-bugs"} {
		want := scenariotest.Expectation(t, "../testdata/"+file+".expect.json")
		for _, mode := range [][]string{nil, {"-pure"}} {
			out := scenariotest.Matrix(t, run, append(mode, "-scenario", "../testdata/"+file+".json")...)
			if m := out.Mismatches(want); len(m) > 0 {
				t.Errorf("%s %q: wrong verdicts:\n%s", file, mode, strings.Join(m, "\n"))
			}
		}
	}
}

func TestModesAgree(t *testing.T) {
	for _, file := range []string{"smoke", "cyclonus-bugs"} {
		path := "../testdata/" + file + ".json"
		engine, _, _ := scenariotest.CLI(t, run, "", "-scenario", path)
		pure, _, _ := scenariotest.CLI(t, run, "", "-pure", "-scenario", path)
		if engine == "" || engine != pure {
			t.Errorf("%s: engine and -pure outputs differ:\n%s\n---\n%s", file, engine, pure)
		}
	}
}

func TestMatrixSize(t *testing.T) {
	// smoke: 5 pods + 2 externals = 7 endpoints, 7*6 - 2 external pairs = 40, times 3 probes.
	if got := len(scenariotest.Matrix(t, run, "-scenario", "../testdata/smoke.json").Results); got != 120 {
		t.Errorf("results = %d, want 120", got)
	}
}

func TestBench(t *testing.T) {
	for _, mode := range []string{"-pure=false", "-pure"} {
		stdout, stderr, code := scenariotest.CLI(t, run, "", mode, "-bench", "500", "-scenario", "../testdata/smoke.json")
		var res scenario.BenchResult
		if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Oracle != "knp" || res.Tuples != 500 {
			t.Errorf("%s: bench = %d %q %q", mode, code, stdout, stderr)
		}
	}
}

func TestErrors(t *testing.T) {
	valid := `"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"a","ip":"10.0.0.1"}],"probes":["TCP/80"]`
	tests := []struct{ name, in, want string }{
		{"not json", "{", "decoding scenario"},
		{"contract", `{` + valid + `,"policies":[{"metadata":{"name":"p","namespace":"x"},"spec":{"podSelector":{}}}]}`, "policyTypes: must be set"},
		{"unknown policy field", `{` + valid + `,"policies":[{"metadata":{"name":"p","namespace":"x"},"spec":{"podSelecter":{},"policyTypes":["Ingress"]}}]}`, `unknown field "podSelecter"`},
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
