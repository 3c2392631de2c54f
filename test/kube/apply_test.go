package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol/internal/cli"
	"github.com/netpol/netpol/internal/kube/kubetest"
)

// TestSnapshot writes a snapshot of a cluster of several namespaces in
// pages of two objects, and the offline commands give on it what they give
// on the live cluster.
func TestSnapshot(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	var namespaces []string
	for range 3 {
		ns := s.Namespace(t, "snap", map[string]string{"team": "shop"})
		deployment(t, cs, ns, "web", 3)
		deployment(t, cs, ns, "api", 2)
		createPolicy(t, cs, policyYAML(ns, "allow-web", "web", "api", 8080))
		createPolicy(t, cs, policyYAML(ns, "deny", "", "", 0))
		namespaces = append(namespaces, ns)
	}
	r := np(t, s.Kubeconfig, "snapshot", "--chunk-size", "2", "-v").ok(t)
	if !strings.Contains(r.stderr, " NetworkPolicy\n") || !strings.Contains(r.stderr, " requests\n") {
		t.Errorf("stderr of -v:\n%s", r.stderr)
	}
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	js := np(t, s.Kubeconfig, "snapshot", "-o", "json").ok(t)
	jsonFile := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(jsonFile, []byte(js.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ns := range namespaces {
		if !strings.Contains(r.stdout, "namespace: "+ns) {
			t.Errorf("the snapshot lacks namespace %s", ns)
		}
		live := np(t, s.Kubeconfig, "matrix", "-n", ns, "-o", "json").ok(t)
		offline := np(t, "", "matrix", "-f", file, "-n", ns, "-o", "json").ok(t)
		offlineJSON := np(t, "", "matrix", "-f", jsonFile, "-n", ns, "-o", "json").ok(t)
		if live.stdout != offline.stdout || live.stdout != offlineJSON.stdout {
			t.Errorf("matrix of %s: live and snapshot differ:\n%s", ns, cmp.Diff(live.stdout, offline.stdout))
		}
		if !strings.Contains(live.stdout, `{"from": "`+ns+`/api-6b8f9c7d5-k2m9a", "to": "`+ns+`/web-6b8f9c7d5-k2m9a", "probe": "TCP/8080", "allowed": true}`) {
			t.Errorf("matrix of %s lacks the allowed api -> web:\n%s", ns, live.stdout)
		}
	}
	explain := np(t, s.Kubeconfig, "explain", "--from", namespaces[0]+"/web-6b8f9c7d5-k2m9a",
		"--to", namespaces[0]+"/api-6b8f9c7d5-k2m9a", "--probe", "TCP/8080").ok(t)
	if !strings.Contains(explain.stdout, "deny") {
		t.Errorf("explain does not name the deny policy:\n%s", explain.stdout)
	}
}

// TestApplyDryRunFailure: a policy the API server rejects (its namespace
// does not exist) stops the apply before any change.
func TestApplyDryRunFailure(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "dryrun", nil)
	createPolicy(t, cs, policyYAML(ns, "allow-web", "web", "api", 8080))
	before := policies(t, cs, ns)
	missing := kubetest.UniqueName("missing")
	dir := writeFiles(t, map[string]string{
		"a.yaml": policyYAML(ns, "allow-web", "web", "api", 9090) + "---\n" + policyYAML(ns, "deny", "", "", 0),
		"b.yaml": policyYAML(missing, "deny", "", "", 0),
	})
	backup := filepath.Join(t.TempDir(), "backup.json")
	r := np(t, s.Kubeconfig, "apply", "-f", dir, "--backup", backup)
	if r.code != cli.ExitUsage {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, cli.ExitUsage, r.stdout, r.stderr)
	}
	for _, want := range []string{"netpol: nothing was changed", "NetworkPolicy " + missing + "/deny: server-side dry-run:", `namespaces "` + missing + `" not found`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Errorf("a backup was written: %v", err)
	}
	if after := policies(t, cs, ns); after != before {
		t.Errorf("the policies changed:\n%s", cmp.Diff(before, after))
	}
}

// TestApplyDiffRollback applies policies that add, change and delete,
// checks the diff (apply --dry-run) before and after, and rolls back: the policies are back byte
// for byte.
func TestApplyDiffRollback(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "apply", nil)
	createPolicy(t, cs, policyYAML(ns, "allow-web", "web", "api", 8080))
	createPolicy(t, cs, policyYAML(ns, "legacy", "db", "api", 5432))
	createPolicy(t, cs, strings.Replace(policyYAML(ns, "old", "", "", 0), "metadata: {", "metadata: {labels: {app.kubernetes.io/managed-by: netpol}, ", 1))
	before := policies(t, cs, ns)
	dir := writeFiles(t, map[string]string{
		"policies.yaml": policyYAML(ns, "allow-web", "web", "api", 9090) + "---\n" + policyYAML(ns, "deny", "", "", 0) +
			"---\n" + policyYAML(ns, "allow-api", "api", "web", 8080),
	})

	diff := np(t, s.Kubeconfig, "apply", "-f", dir, "--dry-run")
	wantPlan := "add        " + ns + "/allow-api\n" +
		"change     " + ns + "/allow-web\n" +
		"keep       " + ns + "/legacy (not created by netpol; --prune deletes it)\n" +
		"add        " + ns + "/deny\n" +
		"delete     " + ns + "/old\n" +
		"2 to add, 1 to change, 1 to delete, 1 kept, 0 unchanged\n"
	if diff.code != cli.ExitOK || diff.stdout != wantPlan {
		t.Fatalf("apply --dry-run: exit code %d; stdout (-want +got):\n%s\nstderr:\n%s", diff.code, cmp.Diff(wantPlan, diff.stdout), diff.stderr)
	}
	if after := policies(t, cs, ns); after != before {
		t.Fatalf("apply --dry-run changed the policies:\n%s", cmp.Diff(before, after))
	}

	backup := filepath.Join(t.TempDir(), "backup.json")
	r := np(t, s.Kubeconfig, "apply", "-f", dir, "--backup", backup).ok(t)
	wantApply := wantPlan + "added " + ns + "/allow-api\nchanged " + ns + "/allow-web\nadded " + ns + "/deny\ndeleted " + ns + "/old\napplied 4 changes\n"
	if r.stdout != wantApply {
		t.Errorf("apply stdout (-want +got):\n%s", cmp.Diff(wantApply, r.stdout))
	}
	if !strings.Contains(r.stderr, "netpol: saved 3 live policies and 2 to create to "+backup) {
		t.Errorf("stderr: %s", r.stderr)
	}
	for name, want := range map[string]string{"allow-api": "netpol", "deny": "netpol", "allow-web": "", "legacy": ""} {
		p, err := cs.NetworkingV1().NetworkPolicies(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Labels["app.kubernetes.io/managed-by"]; got != want {
			t.Errorf("%s: managed-by %q, want %q", name, got, want)
		}
		if name == "allow-web" && p.Spec.Ingress[0].Ports[0].Port.IntValue() != 9090 {
			t.Errorf("allow-web was not changed: %v", p.Spec.Ingress[0].Ports)
		}
		managers := map[string]bool{}
		for _, m := range p.ManagedFields {
			managers[m.Manager] = true
		}
		if name != "legacy" && !managers["netpol"] {
			t.Errorf("%s: field managers %v lack netpol", name, managers)
		}
	}
	again := np(t, s.Kubeconfig, "apply", "-f", dir, "--dry-run", "-v").ok(t)
	if !strings.HasSuffix(again.stdout, "0 to add, 0 to change, 0 to delete, 1 kept, 3 unchanged\n") {
		t.Errorf("apply --dry-run after apply:\n%s", again.stdout)
	}

	rb := np(t, s.Kubeconfig, "rollback", "--backup", backup).ok(t)
	wantRollback := "restore " + ns + "/allow-web\ncreate " + ns + "/old\ndelete " + ns + "/allow-api\ndelete " + ns + "/deny\nrestored 4 policies from " + backup + "\n"
	if rb.stdout != wantRollback {
		t.Errorf("rollback stdout (-want +got):\n%s", cmp.Diff(wantRollback, rb.stdout))
	}
	if after := policies(t, cs, ns); after != before {
		t.Errorf("after rollback (-before +after):\n%s", cmp.Diff(before, after))
	}
	if rb := np(t, s.Kubeconfig, "rollback", "--backup", backup).ok(t); rb.stdout != "restored 0 policies from "+backup+"\n" {
		t.Errorf("a second rollback changed something:\n%s", rb.stdout)
	}
}

// TestApplyPrune: --prune deletes a policy netpol did not create.
func TestApplyPrune(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "prune", nil)
	createPolicy(t, cs, policyYAML(ns, "legacy", "db", "api", 5432))
	dir := writeFiles(t, map[string]string{"p.yaml": policyYAML(ns, "deny", "", "", 0)})
	r := np(t, s.Kubeconfig, "apply", "-f", dir, "--prune", "--backup", filepath.Join(t.TempDir(), "b.json")).ok(t)
	if !strings.Contains(r.stdout, "deleted "+ns+"/legacy\n") {
		t.Errorf("legacy was not pruned:\n%s", r.stdout)
	}
}

// TestRestrictedApply: a user who may only read (the netpol-reader
// ClusterRole of deploy/rbac/) can snapshot, and gets from apply
// a forbidden error that names the missing permission and the ClusterRole
// that grants it.
func TestRestrictedApply(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "restricted", nil)
	bindRestricted(t, s, "netpol-reader")
	waitAllowed(t, s.RestrictedKubeconfig, "snapshot")

	before := policies(t, cs, ns)
	dir := writeFiles(t, map[string]string{"p.yaml": policyYAML(ns, "deny", "", "", 0)})
	r := np(t, s.RestrictedKubeconfig, "apply", "-f", dir, "--backup", filepath.Join(t.TempDir(), "b.json"))
	if r.code != cli.ExitUsage {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	want := "netpol: NetworkPolicy " + ns + "/deny: server-side dry-run: forbidden: missing permission to patch " +
		"networkpolicies.networking.k8s.io in namespace \"" + ns + "\" (bind the ClusterRole netpol-applier of deploy/rbac/applier.yaml, which grants it)"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks\n%s\ngot:\n%s", want, r.stderr)
	}
	if !strings.Contains(r.stderr, `User "restricted" cannot patch resource "networkpolicies"`) {
		t.Errorf("stderr does not quote the API server:\n%s", r.stderr)
	}
	if after := policies(t, cs, ns); after != before {
		t.Errorf("the policies changed:\n%s", cmp.Diff(before, after))
	}
	// Impersonating a user without bindings, the admin reads nothing.
	r = np(t, s.Kubeconfig, "snapshot", "--as", kubetest.UniqueName("nobody"))
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "missing permission to list pods in all namespaces (bind the ClusterRole netpol-reader of deploy/rbac/reader.yaml") {
		t.Errorf("snapshot --as a user without permissions: exit code %d\n%s", r.code, r.stderr)
	}
}
