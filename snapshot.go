package netpol

import (
	"cmp"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// NamespaceNameLabel is the label the API server puts on every namespace,
// holding its name.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Workload is a pod controller (Deployment, ReplicaSet, StatefulSet,
// DaemonSet, Job, CronJob or ReplicationController) reduced to what
// connectivity needs: its identity, owners, selector and pod template (for a
// CronJob, the template of its job template).
type Workload struct {
	Kind string
	metav1.ObjectMeta
	// Selector is nil for a CronJob and for a ReplicationController or Job
	// whose selector is defaulted from the template labels.
	Selector *metav1.LabelSelector
	Template corev1.PodTemplateSpec
}

// Snapshot is a cluster as the simulator sees it: API objects, already
// defaulted for namespace. It is built by an adapter (manifest files, the
// live API) and read by the core; the core never changes it.
type Snapshot struct {
	Namespaces     []corev1.Namespace
	Nodes          []corev1.Node
	Pods           []corev1.Pod
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	Workloads      []Workload
	Policies       []networkingv1.NetworkPolicy
}

// NamespaceLabels returns the labels of every namespace that the snapshot
// declares or uses (pods, workloads, policies, services), with
// kubernetes.io/metadata.name set as the API server sets it.
func (s *Snapshot) NamespaceLabels() map[string]map[string]string {
	out := map[string]map[string]string{}
	use := func(ns string) {
		if _, ok := out[ns]; !ok && ns != "" {
			out[ns] = map[string]string{NamespaceNameLabel: ns}
		}
	}
	for _, n := range s.Namespaces {
		l := make(map[string]string, len(n.Labels)+1)
		for k, v := range n.Labels {
			l[k] = v
		}
		l[NamespaceNameLabel] = n.Name
		out[n.Name] = l
	}
	for _, p := range s.Pods {
		use(p.Namespace)
	}
	for _, w := range s.Workloads {
		use(w.Namespace)
	}
	for _, p := range s.Policies {
		use(p.Namespace)
	}
	for _, v := range s.Services {
		use(v.Namespace)
	}
	return out
}

// Endpoints returns the in-cluster endpoints of the snapshot, sorted by ID:
// every pod that is not finished (phase Succeeded or Failed), and a template
// endpoint for every top-level workload that has no such pod. A workload is
// top-level when no workload of the snapshot owns it (a ReplicaSet of a
// Deployment, a Job of a CronJob); it has pods when a pod of its namespace is
// owned by it or by a workload it owns, or matches its selector.
func (s *Snapshot) Endpoints() []Endpoint {
	nsLabels := s.NamespaceLabels()
	var out []Endpoint
	for i := range s.Pods {
		p := &s.Pods[i]
		if PodFinished(p) {
			continue
		}
		out = append(out, Endpoint{
			Kind:            EndpointPod,
			Namespace:       p.Namespace,
			Name:            p.Name,
			Labels:          p.Labels,
			NamespaceLabels: nsLabels[p.Namespace],
			IPs:             PodIPs(p),
			Ports:           ContainerPorts(&p.Spec),
			HostNetwork:     p.Spec.HostNetwork,
			NodeName:        p.Spec.NodeName,
		})
	}
	for _, w := range s.templateWorkloads() {
		out = append(out, Endpoint{
			Kind:            EndpointTemplate,
			Namespace:       w.Namespace,
			Name:            w.Name,
			WorkloadKind:    w.Kind,
			Labels:          w.Template.Labels,
			NamespaceLabels: nsLabels[w.Namespace],
			Ports:           ContainerPorts(&w.Template.Spec),
			HostNetwork:     w.Template.Spec.HostNetwork,
		})
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return cmp.Compare(a.ID(), b.ID()) })
	return out
}

type workloadKey struct{ kind, ns, name string }

// templateWorkloads returns the top-level workloads without live pods.
func (s *Snapshot) templateWorkloads() []*Workload {
	byKey := map[workloadKey]*Workload{}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		byKey[workloadKey{w.Kind, w.Namespace, w.Name}] = w
	}
	owner := func(ns string, refs []metav1.OwnerReference) *Workload {
		for _, r := range refs {
			if w, ok := byKey[workloadKey{r.Kind, ns, r.Name}]; ok {
				return w
			}
		}
		return nil
	}
	top := func(w *Workload) *Workload {
		for range 4 { // Pod <- ReplicaSet <- Deployment; Job <- CronJob
			o := owner(w.Namespace, w.OwnerReferences)
			if o == nil {
				return w
			}
			w = o
		}
		return w
	}
	hasPods := map[*Workload]bool{}
	for i := range s.Pods {
		p := &s.Pods[i]
		if PodFinished(p) {
			continue
		}
		if o := owner(p.Namespace, p.OwnerReferences); o != nil {
			hasPods[top(o)] = true
		}
	}
	var out []*Workload
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if top(w) != w || hasPods[w] || s.selectsPod(w) {
			continue
		}
		out = append(out, w)
	}
	return out
}

// PodSelector returns the selector of w's pods: its Selector, or, without
// one, all of its template labels. ok is false when w has none, or one that
// is invalid or selects every pod.
func (w *Workload) PodSelector() (sel labels.Selector, ok bool) {
	if w.Selector != nil {
		var err error
		if sel, err = metav1.LabelSelectorAsSelector(w.Selector); err != nil {
			return nil, false
		}
	} else {
		if len(w.Template.Labels) == 0 {
			return nil, false
		}
		sel = labels.SelectorFromSet(w.Template.Labels)
	}
	if sel.Empty() {
		return nil, false
	}
	return sel, true
}

// selectsPod reports whether a running pod of w's namespace matches w's
// selector (or, without one, carries all of w's template labels).
func (s *Snapshot) selectsPod(w *Workload) bool {
	sel, ok := w.PodSelector()
	if !ok {
		return false
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Namespace != w.Namespace || PodFinished(p) {
			continue
		}
		if sel.Matches(labels.Set(p.Labels)) {
			return true
		}
	}
	return false
}

// NodeIPs returns the node's InternalIP and ExternalIP addresses (other
// address types name hosts, not addresses).
func NodeIPs(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// PodIPs returns the pod's addresses, primary first: status.podIPs, else
// status.podIP; for a hostNetwork pod without them, status.hostIPs. Strings
// that are not addresses are left out (validation reports them).
func PodIPs(p *corev1.Pod) []netip.Addr {
	var raw []string
	for _, ip := range p.Status.PodIPs {
		raw = append(raw, ip.IP)
	}
	if len(raw) == 0 && p.Status.PodIP != "" {
		raw = append(raw, p.Status.PodIP)
	}
	if len(raw) == 0 && p.Spec.HostNetwork {
		for _, ip := range p.Status.HostIPs {
			raw = append(raw, ip.IP)
		}
		if len(raw) == 0 && p.Status.HostIP != "" {
			raw = append(raw, p.Status.HostIP)
		}
	}
	var out []netip.Addr
	for _, s := range raw {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// ContainerPorts returns the ports of the pod spec's containers and of its
// native sidecars (initContainers with restartPolicy Always), in spec order.
// A port without protocol is TCP, as the API server defaults it.
func ContainerPorts(spec *corev1.PodSpec) []Port {
	var out []Port
	add := func(c *corev1.Container) {
		for _, p := range c.Ports {
			pr := ProtocolTCP
			if p.Protocol != "" {
				pr, _ = ParseProtocol(string(p.Protocol))
			}
			if p.ContainerPort > 0 && p.ContainerPort < 65536 {
				out = append(out, Port{Name: p.Name, Protocol: pr, Port: uint16(p.ContainerPort)})
			}
		}
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	for i := range spec.Containers {
		add(&spec.Containers[i])
	}
	return out
}

// PodFinished reports whether p has ended (phase Succeeded or Failed): it
// is no endpoint, and its address may already belong to another pod.
func PodFinished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}
