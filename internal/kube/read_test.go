package kube

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/netpol/netpol/internal/kube/kubetest"
	"github.com/netpol/netpol/internal/manifest"
)

// countingTransport counts the list requests that ask for a next page.
type countingTransport struct {
	rt    http.RoundTripper
	pages atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Get("continue") != "" {
		c.pages.Add(1)
	}
	return c.rt.RoundTrip(r)
}

// TestReadPages reads a cluster of several namespaces in pages of two
// objects: every object is there, more than one page was read per kind
// with more than two objects, and the result is the same as with one page.
func TestReadPages(t *testing.T) {
	s := kubetest.Get(t)
	cs := s.Client(t)
	var namespaces []string
	for range 3 {
		ns := s.Namespace(t, "read", map[string]string{"team": "a"})
		populate(t, cs, ns, 5)
		namespaces = append(namespaces, ns)
	}
	cfg := s.Config(t)
	ct := &countingTransport{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { ct.rt = rt; return ct })
	paged, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	small, err := paged.Read(ctx(t), ReadOptions{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if ct.pages.Load() < 10 {
		t.Errorf("%d continued list requests with pages of 2, want at least 10 (15 pods alone need 7)", ct.pages.Load())
	}
	c, err := NewClient(s.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := c.Read(ctx(t), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if small.Requests <= whole.Requests {
		t.Errorf("%d requests with pages of 2, %d with pages of %d", small.Requests, whole.Requests, DefaultPageSize)
	}
	if got, want := encode(t, small, "yaml"), encode(t, whole, "yaml"); got != want {
		t.Errorf("paged read differs from a single-page read:\n%s", cmp.Diff(want, got))
	}
	for _, ns := range namespaces {
		counts := map[string]int{}
		for _, k := range small.Kinds {
			for _, o := range k.Items {
				if m, _ := meta.Accessor(o); m.GetNamespace() == ns || (k.Kind == "Namespace" && m.GetName() == ns) {
					counts[k.Kind]++
				}
			}
		}
		want := map[string]int{"Namespace": 1, "Pod": 5, "Deployment": 1, "Service": 1, "EndpointSlice": 1, "NetworkPolicy": 1}
		if diff := cmp.Diff(want, counts); diff != "" {
			t.Errorf("namespace %s (-want +got):\n%s", ns, diff)
		}
	}
}

// TestSnapshotRoundTrip encodes a live read as YAML and as JSON; the
// manifest loader reads both back into the same snapshot, with every
// object.
func TestSnapshotRoundTrip(t *testing.T) {
	s := kubetest.Get(t)
	ns := s.Namespace(t, "roundtrip", nil)
	populate(t, s.Client(t), ns, 3)
	c, err := NewClient(s.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := c.Read(ctx(t), ReadOptions{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	yamlText, jsonText := encode(t, objs, "yaml"), encode(t, objs, "json")
	if strings.Contains(yamlText, "managedFields") {
		t.Error("the snapshot has managedFields")
	}
	var l manifest.Loader
	fromYAML, rep, err := l.Decode("snapshot.yaml", strings.NewReader(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) > 0 || len(rep.Warnings) > 0 {
		t.Errorf("skipped %v, warnings %v", rep.Skipped, rep.Warnings)
	}
	fromJSON, _, err := l.Decode("snapshot.json", strings.NewReader(jsonText))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromYAML, fromJSON); diff != "" {
		t.Errorf("YAML and JSON snapshots differ (-yaml +json):\n%s", diff)
	}
	n := len(fromYAML.Namespaces) + len(fromYAML.Nodes) + len(fromYAML.Pods) + len(fromYAML.Services) +
		len(fromYAML.EndpointSlices) + len(fromYAML.Workloads) + len(fromYAML.Policies)
	if n != objs.Len() {
		t.Errorf("read back %d objects, the cluster has %d", n, objs.Len())
	}
	var pods []string
	for _, p := range fromYAML.Pods {
		if p.Namespace == ns {
			pods = append(pods, p.Name+" "+p.Status.PodIP)
		}
	}
	if len(pods) != 3 || slices.ContainsFunc(pods, func(s string) bool { return strings.HasSuffix(s, " ") }) {
		t.Errorf("pods of %s with their addresses: %q", ns, pods)
	}
}

// TestReadForbidden: a user without permissions gets, for each kind, an
// error naming the verb, the resource and the ClusterRole that grants it.
func TestReadForbidden(t *testing.T) {
	s := kubetest.Get(t)
	c := impersonate(t, s)
	_, err := c.Read(ctx(t), ReadOptions{})
	if err == nil {
		t.Fatal("read without permissions succeeded")
	}
	var fe *ForbiddenError
	if !errors.As(err, &fe) {
		t.Fatalf("not a ForbiddenError: %v", err)
	}
	if fe.Verb != "list" || fe.Role != ReaderRole {
		t.Errorf("verb %q role %q, want list %s", fe.Verb, fe.Role, ReaderRole)
	}
	for _, want := range []string{
		"missing permission to list pods in all namespaces",
		"missing permission to list networkpolicies.networking.k8s.io in all namespaces",
		"missing permission to list deployments.apps in all namespaces",
		"bind the ClusterRole netpol-reader of deploy/rbac/reader.yaml",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestReaderRole: deploy/rbac/reader.yaml grants everything Read needs.
func TestReaderRole(t *testing.T) {
	s := kubetest.Get(t)
	c := impersonate(t, s, ReaderRole)
	if _, err := retryForbidden(func() (*Objects, error) { return c.Read(ctx(t), ReadOptions{}) }); err != nil {
		t.Fatal(err)
	}
}

func encode(t *testing.T, o *Objects, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := o.Encode(&b, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
