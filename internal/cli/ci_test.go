package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	yaml "go.yaml.in/yaml/v3"
)

// workflow is what TestCIWorkflow reads of the GitHub Actions workflow.
type workflow struct {
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		RunsOn string `yaml:"runs-on"`
		Steps  []struct {
			ID   string            `yaml:"id"`
			Name string            `yaml:"name"`
			If   string            `yaml:"if"`
			Run  string            `yaml:"run"`
			Uses string            `yaml:"uses"`
			With map[string]any    `yaml:"with"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestCIWorkflow checks that the workflow of docs/ci.md runs what
// testdata/script/ci.txtar tests: the script of its step "diff" is the
// script's diff-step.sh, character for character; the base branch is
// fetched; the comment posts what the step wrote; the job fails on status
// 3 only.
func TestCIWorkflow(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/ci.md has no ```yaml block")
	}
	var wf workflow
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("the workflow of docs/ci.md: %v", err)
	}
	if _, ok := wf.On["pull_request"]; !ok || len(wf.Jobs) != 1 {
		t.Fatalf("want one job on pull_request, have on %v and %d jobs", wf.On, len(wf.Jobs))
	}
	ar, err := txtar.ParseFile(filepath.Join("..", "..", "testdata", "script", "ci.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var tested string
	for _, f := range ar.Files {
		if f.Name == "diff-step.sh" {
			tested = string(f.Data)
		}
	}
	var checkout, diff, comment, fail bool
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			switch {
			case strings.HasPrefix(s.Uses, "actions/checkout@"):
				checkout = s.With["fetch-depth"] == 0
			case s.ID == "diff":
				diff = true
				if d := cmp.Diff(tested, s.Run); d != "" {
					t.Errorf("the diff step of docs/ci.md and diff-step.sh of testdata/script/ci.txtar differ (-tested +docs):\n%s", d)
				}
				if !strings.HasPrefix(s.Env["BASE"], "origin/") {
					t.Errorf("BASE = %q, want origin/<base branch>", s.Env["BASE"])
				}
			case strings.Contains(s.Run, "gh pr comment"):
				comment = strings.Contains(s.Run, "--body-file netpol-diff.md")
			case s.If != "":
				fail = s.If == "steps.diff.outputs.status == '3'" && strings.Contains(s.Run, "exit 1")
			}
		}
	}
	if !checkout || !diff || !comment || !fail {
		t.Errorf("checkout with fetch-depth 0 %v, diff step %v, comment of netpol-diff.md %v, failing on status 3 %v: want all",
			checkout, diff, comment, fail)
	}
}
