package kube_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netpol/netpol/internal/kube/kubetest"
)

// TestGenerateApplies runs the demo's story against a real API server: its
// cluster is created with kubectl, generate reads that live cluster (no
// -f), and kubectl applies the policies it writes, YAML and JSON, as they
// are.
func TestGenerateApplies(t *testing.T) {
	s := kubetest.Get(t)
	kubectl := kubectlPath(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kubectl, append(args, "--kubeconfig", s.Kubeconfig)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	dir := t.TempDir()
	story := filepath.Join(dir, "story")
	np(t, "", "demo", "--export-story", story).ok(t)
	// The test server's Service range (10.96.0.0/16) holds the demo's ClusterIPs.
	run("apply", "-f", filepath.Join(story, "cluster"))
	state := filepath.Join(dir, "shop.state")
	np(t, "", "learn", "--hubble-file", filepath.Join(story, "flows.jsonl"), "-f", filepath.Join(story, "cluster"), "--state", state).ok(t)

	out := filepath.Join(dir, "policies")
	r := np(t, s.Kubeconfig, "generate", "--state", state, "-n", "frontend,shop,payments,monitoring", "--out-dir", out).ok(t)
	if !strings.Contains(r.stderr, "netpol: guarantees hold: 14 of 14 observed connections allowed") {
		t.Fatalf("generate from the live cluster:\n%s", r.stderr)
	}
	run("apply", "--dry-run=server", "-f", out)
	applied := run("apply", "-f", out)
	if n := strings.Count(applied, "networkpolicy.networking.k8s.io/"); n != 14 {
		t.Errorf("kubectl applied %d policies, want 14:\n%s", n, applied)
	}
	// Applying again changes nothing: the output is what the server keeps.
	if again := run("apply", "-f", out); strings.Contains(again, "configured") || strings.Contains(again, "created") {
		t.Errorf("a second apply changed something:\n%s", again)
	}

	// JSON, a v1 List, applies too; and generate, reading the cluster with
	// its policies now, replaces the ones it manages and still proves them.
	js := np(t, s.Kubeconfig, "generate", "--state", state, "-n", "shop", "-o", "json").ok(t)
	if !strings.Contains(js.stderr, "netpol: guarantees hold") {
		t.Errorf("generate over its own policies:\n%s", js.stderr)
	}
	listFile := filepath.Join(dir, "shop.json")
	if err := os.WriteFile(listFile, []byte(js.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if again := run("apply", "-f", listFile); strings.Contains(again, "configured") {
		t.Errorf("the JSON form differs from the YAML form applied before:\n%s", again)
	}
}
