package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// DefaultPageSize is the number of objects asked for per list request.
const DefaultPageSize = 500

// ReadOptions tune Read. The zero value reads every kind with pages of
// DefaultPageSize.
type ReadOptions struct {
	// PageSize is the limit of each list request; 0 is DefaultPageSize.
	PageSize int64
}

// Objects are the objects of a cluster that netpol reads, kind by kind in
// the order of Kinds, each kind sorted by namespace and name, with
// apiVersion and kind set and metadata.managedFields left out.
type Objects struct {
	// Kinds holds one list per entry of the package's kinds, in order.
	Kinds []KindObjects
	// Requests counts the list requests made (pages included).
	Requests int
}

// KindObjects are the objects of one kind.
type KindObjects struct {
	// Kind is "Pod", "NetworkPolicy", ...
	Kind string
	// Items are the objects, sorted by namespace and name.
	Items []runtime.Object
}

// Len returns the number of objects.
func (o *Objects) Len() int {
	n := 0
	for _, k := range o.Kinds {
		n += len(k.Items)
	}
	return n
}

// kind is one kind Read lists.
type kind struct {
	gvk      schema.GroupVersionKind
	resource string // with its group, for errors: "deployments.apps"
	list     func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error)
}

// kinds are the kinds netpol reads, in the order of a snapshot.
var kinds = []kind{
	{schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, "namespaces", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.CoreV1().Namespaces().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Version: "v1", Kind: "Node"}, "nodes", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.CoreV1().Nodes().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, "pods", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.CoreV1().Pods("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Version: "v1", Kind: "Service"}, "services", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.CoreV1().Services("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"}, "endpointslices.discovery.k8s.io", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.DiscoveryV1().EndpointSlices("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "deployments.apps", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.AppsV1().Deployments("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, "replicasets.apps", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.AppsV1().ReplicaSets("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, "statefulsets.apps", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.AppsV1().StatefulSets("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, "daemonsets.apps", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.AppsV1().DaemonSets("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, "jobs.batch", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.BatchV1().Jobs("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, "cronjobs.batch", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.BatchV1().CronJobs("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}, "replicationcontrollers", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.CoreV1().ReplicationControllers("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
	{schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}, "networkpolicies.networking.k8s.io", func(ctx context.Context, cs kubernetes.Interface, o metav1.ListOptions) ([]runtime.Object, string, error) {
		l, err := cs.NetworkingV1().NetworkPolicies("").List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return items(l.Items), l.Continue, nil
	}},
}

// items returns pointers to the elements of xs as runtime objects. A nil
// list (from a failed request) gives none.
func items[T any, P interface {
	*T
	runtime.Object
}](xs []T) []runtime.Object {
	out := make([]runtime.Object, len(xs))
	for i := range xs {
		out[i] = P(&xs[i])
	}
	return out
}

// Read lists every kind netpol reads, all kinds in parallel, each page by
// page. Every failure is returned, joined; a refused list is a
// *ForbiddenError.
func (c *Client) Read(ctx context.Context, o ReadOptions) (*Objects, error) {
	limit := cmp.Or(o.PageSize, DefaultPageSize)
	out := &Objects{Kinds: make([]KindObjects, len(kinds))}
	errs := make([]error, len(kinds))
	requests := make([]int, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Go(func() {
			out.Kinds[i].Kind = k.gvk.Kind
			out.Kinds[i].Items, requests[i], errs[i] = c.listAll(ctx, k, limit)
		})
	}
	wg.Wait()
	for _, n := range requests {
		out.Requests += n
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// listAll lists one kind page by page. When the continue token expires
// (the pages would no longer be one consistent list) it starts over, up to
// three times.
func (c *Client) listAll(ctx context.Context, k kind, limit int64) ([]runtime.Object, int, error) {
	requests := 0
	for attempt := 0; ; attempt++ {
		var all []runtime.Object
		cont := ""
		var err error
		for {
			var page []runtime.Object
			requests++
			page, cont, err = k.list(ctx, c.cs, metav1.ListOptions{Limit: limit, Continue: cont})
			if err != nil {
				break
			}
			all = append(all, page...)
			if cont == "" {
				break
			}
		}
		if err == nil {
			return finish(all, k.gvk), requests, nil
		}
		if apierrors.IsResourceExpired(err) && attempt < 3 {
			continue
		}
		return nil, requests, fmt.Errorf("listing %s: %w", k.resource, forbidden(err, "list", k.resource, ""))
	}
}

// finish sets apiVersion and kind, drops managedFields and sorts by
// namespace and name.
func finish(objs []runtime.Object, gvk schema.GroupVersionKind) []runtime.Object {
	for _, o := range objs {
		o.GetObjectKind().SetGroupVersionKind(gvk)
		if m, err := meta.Accessor(o); err == nil {
			m.SetManagedFields(nil)
		}
	}
	slices.SortStableFunc(objs, func(a, b runtime.Object) int {
		ma, _ := meta.Accessor(a)
		mb, _ := meta.Accessor(b)
		return cmp.Or(cmp.Compare(ma.GetNamespace(), mb.GetNamespace()), cmp.Compare(ma.GetName(), mb.GetName()))
	})
	return objs
}

// Namespaces returns the names of the cluster's namespaces, in the API
// server's order.
func (c *Client) Namespaces(ctx context.Context) ([]string, error) {
	objs, _, err := c.listAll(ctx, kinds[0], DefaultPageSize)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		m, _ := meta.Accessor(o)
		names[i] = m.GetName()
	}
	return names, nil
}
