package kube_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol/internal/cli"
	"github.com/netpol/netpol/internal/kube/kubetest"
)

// bindRestricted binds the ClusterRole role, created from deploy/rbac/,
// to the restricted user's group.
func bindRestricted(t *testing.T, s *kubetest.Server, role string) {
	t.Helper()
	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	file := map[string]string{"netpol-reader": "reader.yaml", "netpol-applier": "applier.yaml"}[role]
	data, err := os.ReadFile(filepath.Join(root, "deploy", "rbac", file))
	if err != nil {
		t.Fatal(err)
	}
	var cr rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &cr); err != nil {
		t.Fatal(err)
	}
	cs := s.Client(t)
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx(t), &cr, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: kubetest.UniqueName(role)},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: kubetest.RestrictedGroup}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx(t), b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitAllowed runs args with kubeconfig until it succeeds (a new binding
// takes a moment to reach the authorizer), for up to 10 seconds.
func waitAllowed(t *testing.T, kubeconfig string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := np(t, kubeconfig, args...)
		if r.code == cli.ExitOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: exit code %d\n%s", args, r.code, r.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestKubectlPlugin builds kubectl-netpol and runs it through the system
// kubectl, which finds it on PATH.
func TestKubectlPlugin(t *testing.T) {
	s := kubetest.Get(t)
	kubectl := kubectlPath(t)
	bin := t.TempDir()
	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubectl-netpol")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ns := s.Namespace(t, "plugin", nil)
	deployment(t, s.Client(t), ns, "web", 1)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(kubectl, args...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+s.Kubeconfig)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	if out := run("plugin", "list"); !strings.Contains(out, filepath.Join(bin, "kubectl-netpol")) {
		t.Errorf("kubectl plugin list does not show kubectl-netpol:\n%s", out)
	}
	help := run("netpol", "--help")
	if !strings.Contains(help, "kubectl netpol [command]") || strings.Contains(help, "\n  netpol ") {
		t.Errorf("help does not say kubectl netpol:\n%s", help)
	}
	for _, cmd := range []string{"snapshot", "apply", "rollback", "matrix"} {
		if out := run("netpol", cmd, "--help"); !strings.Contains(out, "kubectl netpol "+cmd) {
			t.Errorf("kubectl netpol %s --help does not say kubectl netpol %s:\n%s", cmd, cmd, out)
		}
	}
	snap := run("netpol", "snapshot")
	if !strings.Contains(snap, "name: "+ns+"\n") {
		t.Errorf("the snapshot through kubectl lacks namespace %s", ns)
	}
	matrix := run("netpol", "matrix", "-n", ns, "-o", "json")
	if !strings.Contains(matrix, `"probes": ["TCP/8080"]`) {
		t.Errorf("matrix through kubectl:\n%s", matrix)
	}
	// Completion of namespaces comes from the API server without -f.
	comp := run("netpol", "__complete", "matrix", "-n", "")
	if !strings.Contains(comp, "\n"+ns+"\n") || !strings.Contains(comp, "kube-system\n") {
		t.Errorf("namespace completion lacks %s:\n%s", ns, comp)
	}
}

// TestCompletion: namespaces come from the live cluster when no -f is
// given, for matrix and apply; files complete as files.
func TestCompletion(t *testing.T) {
	s := kubetest.Get(t)
	ns := s.Namespace(t, "complete", nil)
	for _, cmd := range []string{"matrix", "explain", "apply", "snapshot"} {
		args := []string{"__complete", cmd, "--kubeconfig", s.Kubeconfig, "-n", ""}
		if cmd == "snapshot" {
			args = []string{"__complete", cmd, "--kubeconfig", s.Kubeconfig, "--output", ""}
		}
		r := np(t, "", args...).ok(t)
		switch cmd {
		case "snapshot":
			if r.stdout != "yaml\njson\n:4\n" {
				t.Errorf("%s -o completion:\n%s", cmd, r.stdout)
			}
		default:
			if !strings.Contains(r.stdout, ns+"\n") || !strings.HasSuffix(r.stdout, ":4\n") {
				t.Errorf("%s -n completion lacks %s:\n%s", cmd, ns, r.stdout)
			}
		}
	}
	r := np(t, "", "__complete", "apply", "-f", "").ok(t)
	if !strings.Contains(r.stdout, "yaml\n") || !strings.HasSuffix(r.stdout, ":8\n") {
		t.Errorf("apply -f completion is not file completion:\n%s", r.stdout)
	}
	r = np(t, "", "__complete", "").ok(t)
	for _, c := range []string{"apply\t", "rollback\t", "snapshot\t"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("command completion lacks %q:\n%s", c, r.stdout)
		}
	}
}
