package manifest

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// kindInfo is how to read one kind.
type kindInfo struct {
	apiVersion, kind string
	namespaced       bool
	new              func() any
	// check returns warnings ("field: message") and problems beyond the
	// decoding ones.
	check func(obj any) ([]string, []*simulate.FieldError)
	add   func(s *netpol.Snapshot, obj any)
}

// kinds are the kinds netpol reads.
var kinds = []*kindInfo{
	{"v1", "Namespace", false, func() any { return new(corev1.Namespace) }, checkNamespace, func(s *netpol.Snapshot, o any) {
		s.Namespaces = append(s.Namespaces, *o.(*corev1.Namespace))
	}},
	{"v1", "Node", false, func() any { return new(corev1.Node) }, checkMeta, func(s *netpol.Snapshot, o any) {
		s.Nodes = append(s.Nodes, *o.(*corev1.Node))
	}},
	{"v1", "Pod", true, func() any { return new(corev1.Pod) }, checkPod, func(s *netpol.Snapshot, o any) {
		s.Pods = append(s.Pods, *o.(*corev1.Pod))
	}},
	{"v1", "Service", true, func() any { return new(corev1.Service) }, checkService, func(s *netpol.Snapshot, o any) {
		s.Services = append(s.Services, *o.(*corev1.Service))
	}},
	{"discovery.k8s.io/v1", "EndpointSlice", true, func() any { return new(discoveryv1.EndpointSlice) }, checkEndpointSlice, func(s *netpol.Snapshot, o any) {
		s.EndpointSlices = append(s.EndpointSlices, *o.(*discoveryv1.EndpointSlice))
	}},
	{"networking.k8s.io/v1", "NetworkPolicy", true, func() any { return new(networkingv1.NetworkPolicy) }, checkPolicy, func(s *netpol.Snapshot, o any) {
		s.Policies = append(s.Policies, *o.(*networkingv1.NetworkPolicy))
	}},
	workloadKind("apps/v1", "Deployment", func() any { return new(appsv1.Deployment) }, func(o any) netpol.Workload {
		d := o.(*appsv1.Deployment)
		return netpol.Workload{ObjectMeta: d.ObjectMeta, Selector: d.Spec.Selector, Template: d.Spec.Template}
	}),
	workloadKind("apps/v1", "ReplicaSet", func() any { return new(appsv1.ReplicaSet) }, func(o any) netpol.Workload {
		d := o.(*appsv1.ReplicaSet)
		return netpol.Workload{ObjectMeta: d.ObjectMeta, Selector: d.Spec.Selector, Template: d.Spec.Template}
	}),
	workloadKind("apps/v1", "StatefulSet", func() any { return new(appsv1.StatefulSet) }, func(o any) netpol.Workload {
		d := o.(*appsv1.StatefulSet)
		return netpol.Workload{ObjectMeta: d.ObjectMeta, Selector: d.Spec.Selector, Template: d.Spec.Template}
	}),
	workloadKind("apps/v1", "DaemonSet", func() any { return new(appsv1.DaemonSet) }, func(o any) netpol.Workload {
		d := o.(*appsv1.DaemonSet)
		return netpol.Workload{ObjectMeta: d.ObjectMeta, Selector: d.Spec.Selector, Template: d.Spec.Template}
	}),
	workloadKind("batch/v1", "Job", func() any { return new(batchv1.Job) }, func(o any) netpol.Workload {
		d := o.(*batchv1.Job)
		return netpol.Workload{ObjectMeta: d.ObjectMeta, Selector: d.Spec.Selector, Template: d.Spec.Template}
	}),
	workloadKind("batch/v1", "CronJob", func() any { return new(batchv1.CronJob) }, func(o any) netpol.Workload {
		d := o.(*batchv1.CronJob)
		return netpol.Workload{ObjectMeta: d.ObjectMeta, Template: d.Spec.JobTemplate.Spec.Template}
	}),
	workloadKind("v1", "ReplicationController", func() any { return new(corev1.ReplicationController) }, func(o any) netpol.Workload {
		d := o.(*corev1.ReplicationController)
		w := netpol.Workload{ObjectMeta: d.ObjectMeta}
		if len(d.Spec.Selector) > 0 {
			w.Selector = &metav1.LabelSelector{MatchLabels: d.Spec.Selector}
		}
		if d.Spec.Template != nil {
			w.Template = *d.Spec.Template
		}
		return w
	}),
}

// builtinGroups are the API groups of the kinds above; a known kind in one
// of them at another version is an error, not a CRD to skip.
var builtinGroups = map[string]bool{"": true, "apps": true, "batch": true, "extensions": true, "networking.k8s.io": true, "discovery.k8s.io": true}

// lookupKind returns how to read tm, nil for a kind to skip, or an error
// for a known kind at a version the API server no longer serves
// (extensions/v1beta1 NetworkPolicy, apps/v1beta2 Deployment).
func lookupKind(tm typeMeta) (*kindInfo, error) {
	for _, k := range kinds {
		if k.kind == tm.Kind && k.apiVersion == tm.APIVersion {
			return k, nil
		}
	}
	group, _ := splitAPIVersion(tm.APIVersion)
	for _, k := range kinds {
		if k.kind == tm.Kind && builtinGroups[group] {
			return nil, fmt.Errorf("%s %s is not served by the API server: use apiVersion %s", tm.APIVersion, tm.Kind, k.apiVersion)
		}
	}
	return nil, nil
}

func splitAPIVersion(v string) (group, version string) {
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		return v[:i], v[i+1:]
	}
	return "", v
}

// skippedKind names a kind netpol does not read: "ConfigMap",
// "Certificate.cert-manager.io".
func skippedKind(tm typeMeta) string {
	if group, _ := splitAPIVersion(tm.APIVersion); group != "" {
		return tm.Kind + "." + group
	}
	return tm.Kind
}

// workloadKind reads a pod controller into a netpol.Workload.
func workloadKind(apiVersion, kind string, newObj func() any, convert func(any) netpol.Workload) *kindInfo {
	return &kindInfo{apiVersion, kind, true, newObj,
		func(o any) ([]string, []*simulate.FieldError) {
			w := convert(o)
			_, problems := checkMeta(o)
			tmpl := "spec.template"
			if kind == "CronJob" {
				tmpl = "spec.jobTemplate.spec.template"
			}
			problems = append(problems, simulate.ValidateLabels(tmpl+".metadata.labels", w.Template.Labels)...)
			if kind == "ReplicationController" {
				if w.Selector != nil {
					problems = append(problems, simulate.ValidateLabels("spec.selector", w.Selector.MatchLabels)...)
				}
			} else {
				problems = append(problems, simulate.ValidateSelector("spec.selector", w.Selector)...)
			}
			return nil, problems
		},
		func(s *netpol.Snapshot, o any) {
			w := convert(o)
			w.Kind = kind
			s.Workloads = append(s.Workloads, w)
		},
	}
}
