package generate_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/netpoltest"
)

// TestGolden generates and verifies every case of testdata/*.txtar and
// compares the policies, the Cilium policies, the report and the check with
// testdata/NAME.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			tc := loadCase(t, path)
			r, err := generate.Policies(tc.g, tc.snap, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := generate.Verify(tc.g, tc.snap, r)
			if err != nil {
				t.Fatal(err)
			}
			netpoltest.Golden(t, filepath.Join("testdata", name+".golden"), render(t, r, c))
		})
	}
}

// TestApplies checks that the generated YAML is what kubectl apply takes
// unchanged: no status, no creationTimestamp, strings that YAML 1.1 would
// read as something else quoted (the manifest reader warns on such traps),
// and that it reads back as the same policies.
func TestApplies(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, path := range cases {
		tc := loadCase(t, path)
		r, err := generate.Policies(tc.g, tc.snap, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var docs []string
		for _, np := range r.Policies {
			data, err := yaml.Marshal(np)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(data))
		}
		text := strings.Join(docs, "---\n")
		for _, bad := range []string{"creationTimestamp", "status:", "resourceVersion", "uid:"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: output has %q", path, bad)
			}
		}
		l := manifest.Loader{}
		snap, rep, err := l.Decode(path+".yaml", strings.NewReader(text))
		if err != nil {
			t.Fatalf("%s: reading the output back: %v", path, err)
		}
		if len(rep.Warnings) > 0 || len(rep.Skipped) > 0 {
			t.Errorf("%s: reading the output back: %s", path, rep)
		}
		if diff := cmp.Diff(r.Policies, snap.Policies); diff != "" {
			t.Errorf("%s: policies read back differ (-generated +read):\n%s", path, diff)
		}
	}
}

// TestDeterministic checks that the same input gives the same bytes, with
// the snapshot's objects and the graph's edges in another order.
func TestDeterministic(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, path := range cases {
		tc := loadCase(t, path)
		r1, err := generate.Policies(tc.g, tc.snap, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		s := *tc.snap
		slices.Reverse(s.Pods)
		slices.Reverse(s.Workloads)
		slices.Reverse(s.Services)
		slices.Reverse(s.Namespaces)
		g := graph.New()
		edges := tc.g.Edges()
		slices.Reverse(edges)
		for _, e := range edges {
			g.Add(e)
		}
		for ns, w := range tc.g.Windows() {
			g.Observe(ns, w)
		}
		for _, a := range tc.g.NamedAddrs() {
			for _, n := range tc.g.Names(a) {
				g.AddName(a, n)
			}
		}
		r2, err := generate.Policies(g, &s, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(render(t, r1, nil)), string(render(t, r2, nil))); diff != "" {
			t.Errorf("%s: output depends on input order (-first +second):\n%s", path, diff)
		}
	}
}
