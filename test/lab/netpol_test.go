package lab

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// netpolRunner runs the netpol binary against the lab's API server.
type netpolRunner struct {
	bin, kubeconfig, dir string
}

// run runs netpol with args and returns its output and exit code.
func (n *netpolRunner) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(n.bin, args...)
	cmd.Dir = n.dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+n.kubeconfig)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running netpol %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// ok runs netpol with args, fails the test unless it exits 0, and returns
// its standard output.
func (n *netpolRunner) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, code := n.run(t, args...)
	if code != 0 {
		t.Fatalf("netpol %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// buildNetpol builds netpol from the repository root (its own module) into
// dir.
func buildNetpol(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "netpol")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/netpol")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building netpol: %v\n%s", err, out)
	}
	return bin
}

// waitPolicies waits until the enforcer has seen every NetworkPolicy of the
// API server at its current resourceVersion, then flushes the node's
// conntrack table so that nothing admitted under the old policies
// survives.
func waitPolicies(t *testing.T, client *kubernetes.Clientset, log, node string) int {
	t.Helper()
	list, err := client.NetworkingV1().NetworkPolicies("").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing policies: %v", err)
	}
	for _, np := range list.Items {
		waitSeen(t, log, "NetworkPolicy", np.Namespace+"/"+np.Name, np.ResourceVersion)
	}
	if out, err := exec.Command("ip", "netns", "exec", node, "conntrack", "-F").CombinedOutput(); err != nil {
		t.Fatalf("flushing the node's conntrack table: %v\n%s", err, out)
	}
	return len(list.Items)
}

// copyPolicies copies the generated files of src into dst, passing each
// NetworkPolicy through edit; it returns how many edit changed.
func copyPolicies(t *testing.T, src, dst string, edit func(*networkingv1.NetworkPolicy) bool) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policies in %s (err %v)", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var docs []string
		for doc := range strings.SplitSeq(string(b), "\n---\n") {
			if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
				continue
			}
			var np networkingv1.NetworkPolicy
			if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if edit(&np) {
				changed++
				out, err := yaml.Marshal(&np)
				if err != nil {
					t.Fatal(err)
				}
				doc = string(out)
			}
			docs = append(docs, strings.TrimSpace(strings.TrimPrefix(doc, "---\n")))
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return changed
}

// dropIngressFrom removes from policy ns/name every ingress rule with a
// peer in namespace from: the deliberately breaking change of the test.
func dropIngressFrom(ns, name, from string) func(*networkingv1.NetworkPolicy) bool {
	return func(np *networkingv1.NetworkPolicy) bool {
		if np.Namespace != ns || np.Name != name {
			return false
		}
		n := len(np.Spec.Ingress)
		np.Spec.Ingress = slices.DeleteFunc(np.Spec.Ingress, func(r networkingv1.NetworkPolicyIngressRule) bool {
			for _, p := range r.From {
				if p.NamespaceSelector != nil && p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == from {
					return true
				}
			}
			return false
		})
		return len(np.Spec.Ingress) != n
	}
}
