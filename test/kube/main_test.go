// Package kube_test runs netpol's commands against a real kube-apiserver
// (internal/kube/kubetest): snapshot, apply with its dry-run, diff,
// rollback and staged rollout, RBAC, and the kubectl plugin through the
// system kubectl.
package kube_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol/internal/cli"
	"github.com/netpol/netpol/internal/kube/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// result is what one run of the command line gave.
type result struct {
	code           int
	stdout, stderr string
}

// np runs the command line in-process with the given kubeconfig.
func np(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	if kubeconfig != "" {
		args = append(args, "--kubeconfig", kubeconfig)
	}
	var out, errb bytes.Buffer
	code := cli.Main("netpol", args, strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// ok fails t unless r succeeded.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != cli.ExitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// kubectlPath finds kubectl; without it the test fails, or skips with
// NETPOL_SKIP_KUBECTL=1.
func kubectlPath(t *testing.T) string {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("NETPOL_SKIP_KUBECTL") == "1" {
			t.Skip("NETPOL_SKIP_KUBECTL=1 and no kubectl on PATH")
		}
		t.Fatalf("no kubectl on PATH (install it, or set NETPOL_SKIP_KUBECTL=1): %v", err)
	}
	return kubectl
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

var lastIP atomic.Int32

// deployment creates Deployment name with a ReplicaSet and pods owned by
// it, as a controller manager would, labelled app=name, each with an
// address and container port 8080.
func deployment(t *testing.T, cs kubernetes.Interface, ns, name string, pods int) {
	t.Helper()
	c := ctx(t)
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: name,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
	d, err := cs.AppsV1().Deployments(ns).Create(c, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rsName := name + "-6b8f9c7d5"
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(c, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: rsName, Namespace: ns, Labels: labels, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pods {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-k2m9%c", rsName, 'a'+i), Namespace: ns, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rsName, UID: rs.UID, Controller: ptr.To(true)}}},
			Spec: tmpl.Spec,
		}
		if _, err := cs.CoreV1().Pods(ns).Create(c, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		n := lastIP.Add(1)
		ip := fmt.Sprintf("10.%d.%d.%d", 200+n>>16, (n>>8)&255, n&255)
		patch := fmt.Sprintf(`{"status":{"phase":"Running","podIP":%q,"podIPs":[{"ip":%q}]}}`, ip, ip)
		if _, err := cs.CoreV1().Pods(ns).Patch(c, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
	}
}

// policyYAML returns a NetworkPolicy manifest: with from, an allow from
// app=from to app=to on TCP port; without, a default deny of ingress.
func policyYAML(ns, name, to, from string, port int) string {
	if from == "" {
		return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: %s, namespace: %s}
spec:
  podSelector: {}
  policyTypes: [Ingress]
`, name, ns)
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: %s, namespace: %s}
spec:
  podSelector: {matchLabels: {app: %s}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: %s}}}]
    ports: [{protocol: TCP, port: %d}]
`, name, ns, to, from, port)
}

// writeFiles writes name → content files into a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// createPolicy creates a policy from YAML.
func createPolicy(t *testing.T, cs kubernetes.Interface, text string) {
	t.Helper()
	var p networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(text), &p); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.NetworkingV1().NetworkPolicies(p.Namespace).Create(ctx(t), &p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// policies returns the policies of the namespaces as YAML without the
// fields the API server sets on each write: what a rollback must restore
// byte for byte.
func policies(t *testing.T, cs kubernetes.Interface, namespaces ...string) string {
	t.Helper()
	var all []networkingv1.NetworkPolicy
	for _, ns := range namespaces {
		l, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx(t), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, l.Items...)
	}
	for i := range all {
		m := &all[i].ObjectMeta
		m.ResourceVersion, m.UID, m.Generation, m.CreationTimestamp, m.ManagedFields = "", "", 0, metav1.Time{}, nil
	}
	data, err := yaml.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
