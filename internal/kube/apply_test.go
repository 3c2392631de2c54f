package kube

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol/internal/kube/kubetest"
)

// livePolicies returns the policies of ns as YAML, without the fields the
// API server sets on each write: what a restore must bring back byte for
// byte.
func liveYAML(t *testing.T, cs kubernetes.Interface, ns string) string {
	t.Helper()
	l, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range l.Items {
		m := &l.Items[i].ObjectMeta
		m.ResourceVersion, m.UID, m.Generation, m.CreationTimestamp, m.ManagedFields = "", "", 0, metav1.Time{}, nil
	}
	data, err := yaml.Marshal(l.Items)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestPlanDryRunFailure: a policy the API server rejects and one in a
// namespace that does not exist stop the plan, and nothing changes.
func TestPlanDryRunFailure(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "dryrun", nil)
	createPolicy(t, cs, allowPolicy(ns, "allow-web", nil))
	before := liveYAML(t, cs, ns)
	c, err := NewClient(s.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	huge := denyPolicy(ns, "huge")
	huge.Annotations = map[string]string{"note": strings.Repeat("x", 300<<10)}
	desired := []networkingv1.NetworkPolicy{
		*denyPolicy(ns, "deny"), *huge, *denyPolicy(kubetest.UniqueName("missing"), "deny"),
	}
	_, err = c.Plan(ctx(t), desired, PlanOptions{})
	if err == nil {
		t.Fatal("the plan accepted invalid policies")
	}
	for _, want := range []string{ns + "/huge: server-side dry-run:", "metadata.annotations: Too long", "not found"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), ns+"/deny:") {
		t.Errorf("the valid policy was reported:\n%v", err)
	}
	if after := liveYAML(t, cs, ns); after != before {
		t.Errorf("the policies changed:\n%s", cmp.Diff(before, after))
	}
}

// TestApplyRestore applies a plan that adds, changes and deletes, checks
// the order and the managed-by label, and restores the backup: the
// policies are back byte for byte.
func TestApplyRestore(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "apply", nil)
	createPolicy(t, cs, allowPolicy(ns, "allow-web", map[string]string{"owner": "team-a"}))
	createPolicy(t, cs, allowPolicy(ns, "legacy", nil))
	createPolicy(t, cs, denyPolicy(ns, "old"))
	mark(t, cs, ns, "old")
	before := liveYAML(t, cs, ns)

	changed := allowPolicy(ns, "allow-web", map[string]string{"owner": "team-a"})
	changed.Spec.Ingress[0].Ports[0].Port.IntVal = 9090
	desired := []networkingv1.NetworkPolicy{*denyPolicy(ns, "deny"), *changed, *allowPolicy(ns, "allow-api", nil)}
	c, err := NewClient(s.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan(ctx(t), desired, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"add allow-api", "change allow-web", "keep legacy", "add deny", "delete old"}, steps(p)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	path := filepath.Join(t.TempDir(), "backup.json")
	if err := c.NewBackup(p).Save(path); err != nil {
		t.Fatal(err)
	}
	if err := c.Execute(ctx(t), p.Changes(""), nil); err != nil {
		t.Fatal(err)
	}
	for name, managed := range map[string]bool{"allow-api": true, "deny": true, "allow-web": false, "legacy": false} {
		got, err := cs.NetworkingV1().NetworkPolicies(ns).Get(ctx(t), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if isManaged(got) != managed {
			t.Errorf("%s: managed %v, want %v", name, isManaged(got), managed)
		}
	}
	if _, err := cs.NetworkingV1().NetworkPolicies(ns).Get(ctx(t), "old", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("old was not deleted: %v", err)
	}
	again, err := c.Plan(ctx(t), desired, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Changes("")); n != 0 {
		t.Errorf("%d changes left after the apply: %v", n, steps(again))
	}
	pruned, err := c.Plan(ctx(t), desired, PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := steps(pruned); !strings.Contains(strings.Join(got, ","), "delete legacy") {
		t.Errorf("with Prune, legacy is not deleted: %v", got)
	}

	b, err := LoadBackup(path)
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.Restore(ctx(t), b, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"restore " + ns + "/allow-web", "create " + ns + "/old", "delete " + ns + "/allow-api", "delete " + ns + "/deny"}
	if diff := cmp.Diff(want, done); diff != "" {
		t.Errorf("restore (-want +got):\n%s", diff)
	}
	if after := liveYAML(t, cs, ns); after != before {
		t.Errorf("restored policies differ from the saved ones (-before +after):\n%s", cmp.Diff(before, after))
	}
}

// TestApplierRole: the reader role cannot apply, and the error says which
// permission and ClusterRole; deploy/rbac/applier.yaml grants apply and
// restore.
func TestApplierRole(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	ns := s.Namespace(t, "roles", nil)
	createPolicy(t, cs, denyPolicy(ns, "old"))
	mark(t, cs, ns, "old")
	desired := []networkingv1.NetworkPolicy{*allowPolicy(ns, "allow-web", nil)}

	reader := impersonate(t, s, ReaderRole)
	_, err := retryForbidden(func() (*Plan, error) {
		_, err := reader.Read(ctx(t), ReadOptions{})
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = reader.Plan(ctx(t), desired, PlanOptions{})
	var fe *ForbiddenError
	if !errors.As(err, &fe) || fe.Verb != "patch" || fe.Role != ApplierRole || fe.Namespace != ns {
		t.Fatalf("want a ForbiddenError to patch in %s granted by %s, got %v", ns, ApplierRole, err)
	}
	for _, want := range []string{
		"missing permission to patch networkpolicies.networking.k8s.io in namespace " + `"` + ns + `"`,
		"missing permission to delete networkpolicies.networking.k8s.io",
		"netpol-applier of deploy/rbac/applier.yaml",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	applier := impersonate(t, s, ApplierRole)
	p, err := retryForbidden(func() (*Plan, error) { return applier.Plan(ctx(t), desired, PlanOptions{}) })
	if err != nil {
		t.Fatal(err)
	}
	if err := applier.Execute(ctx(t), p.Changes(""), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := applier.Restore(ctx(t), applier.NewBackup(p), ""); err != nil {
		t.Fatal(err)
	}
}

// mark labels a policy as created by netpol.
func mark(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	p, err := cs.NetworkingV1().NetworkPolicies(ns).Get(ctx(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Labels = map[string]string{ManagedByLabel: ManagedByValue}
	if _, err := cs.NetworkingV1().NetworkPolicies(ns).Update(ctx(t), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// steps returns "action name" for each step of p.
func steps(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, string(s.Action)+" "+s.Name)
	}
	return out
}

// retryForbidden retries f while the API server refuses it, for up to 10
// seconds: a new role binding takes a moment to reach the authorizer.
func retryForbidden[T any](f func() (T, error)) (T, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := f()
		if err == nil || !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
