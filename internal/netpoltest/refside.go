package netpoltest

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netpol/netpol"
)

// side reads what the reference needs about ep from the snapshot itself
// (labels, namespace labels, addresses, container ports, hostNetwork, node),
// so that a mistake in netpol.Snapshot.Endpoints shows up too. An endpoint
// that the snapshot does not hold is taken as given.
func (r *Reference) side(ep netpol.Endpoint) *side {
	switch ep.Kind {
	case netpol.EndpointExternal:
		x := &side{addr: ep.IP().Unmap()}
		x.nodeOf = r.nodeWithAddress(x.addr)
		return x
	case netpol.EndpointPod:
		if pod := r.pod(ep.Namespace, ep.Name); pod != nil {
			return r.podSide(pod.Namespace, pod.Labels, &pod.Spec, primaryIP(pod))
		}
		x := r.podSide(ep.Namespace, ep.Labels, &corev1.PodSpec{HostNetwork: ep.HostNetwork, NodeName: ep.NodeName}, ep.IP().Unmap())
		if x.selectable {
			x.ports = ep.Ports
		}
		return x
	case netpol.EndpointTemplate:
		if w := r.workload(ep.WorkloadKind, ep.Namespace, ep.Name); w != nil {
			return r.templateSide(w.Namespace, w.Template.Labels, &w.Template.Spec)
		}
		x := r.templateSide(ep.Namespace, ep.Labels, &corev1.PodSpec{HostNetwork: ep.HostNetwork})
		if x.selectable {
			x.ports = ep.Ports
		}
		return x
	}
	return &side{}
}

// podSide describes a pod. A hostNetwork pod shares its node's network
// namespace and addresses: no selector picks it (every implementation
// agrees), it stands for its node, and it has no named ports of its own.
func (r *Reference) podSide(ns string, labels map[string]string, spec *corev1.PodSpec, ip netip.Addr) *side {
	if spec.HostNetwork {
		return &side{addr: ip, nodeOf: spec.NodeName}
	}
	return &side{
		selectable: true, namespace: ns, labels: labels, nsLabels: r.namespaceLabels(ns),
		addr: ip, ports: containerPorts(spec), runsOn: spec.NodeName,
	}
}

// templateSide describes the pods a workload would create: selectable, with
// its template's labels and ports, but no address and no node yet.
func (r *Reference) templateSide(ns string, labels map[string]string, spec *corev1.PodSpec) *side {
	if spec.HostNetwork {
		return &side{}
	}
	return &side{
		selectable: true, template: true, namespace: ns, labels: labels,
		nsLabels: r.namespaceLabels(ns), ports: containerPorts(spec),
	}
}

// pod finds a pod by namespace and name, preferring one that has not
// finished.
func (r *Reference) pod(ns, name string) *corev1.Pod {
	var found *corev1.Pod
	for i := range r.Snapshot.Pods {
		p := &r.Snapshot.Pods[i]
		if p.Namespace != ns || p.Name != name {
			continue
		}
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return p
		}
		found = p
	}
	return found
}

func (r *Reference) workload(kind, ns, name string) *netpol.Workload {
	for i := range r.Snapshot.Workloads {
		w := &r.Snapshot.Workloads[i]
		if strings.EqualFold(w.Kind, kind) && w.Namespace == ns && w.Name == name {
			return w
		}
	}
	return nil
}

// namespaceLabels returns a namespace's labels. "The Kubernetes control
// plane sets an immutable label kubernetes.io/metadata.name on all
// namespaces. The value of the label is the namespace name." A namespace
// that the snapshot does not declare has that label only.
func (r *Reference) namespaceLabels(ns string) map[string]string {
	out := map[string]string{}
	for _, n := range r.Snapshot.Namespaces {
		if n.Name == ns {
			for k, v := range n.Labels {
				out[k] = v
			}
		}
	}
	out["kubernetes.io/metadata.name"] = ns
	return out
}

// nodeWithAddress returns the name of the node that has addr among its
// InternalIP and ExternalIP addresses, or "".
func (r *Reference) nodeWithAddress(addr netip.Addr) string {
	for _, n := range r.Snapshot.Nodes {
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Unmap() == addr {
				return n.Name
			}
		}
	}
	return ""
}

// primaryIP returns the pod's primary address: "podIPs holds the IP
// addresses allocated to the pod. If this field is specified, the 0th entry
// must match the podIP field." A hostNetwork pod without them has its
// host's address.
func primaryIP(p *corev1.Pod) netip.Addr {
	candidates := []string{p.Status.PodIP}
	if len(p.Status.PodIPs) > 0 {
		candidates = []string{p.Status.PodIPs[0].IP}
	}
	if p.Spec.HostNetwork {
		if len(p.Status.HostIPs) > 0 {
			candidates = append(candidates, p.Status.HostIPs[0].IP)
		}
		candidates = append(candidates, p.Status.HostIP)
	}
	for _, c := range candidates {
		if ip, err := netip.ParseAddr(c); err == nil {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// containerPorts returns the ports a named port can resolve to: those of the
// containers and of the native sidecars (initContainers with restartPolicy
// Always, which run for the pod's whole life), but not of ordinary init
// containers, which have exited. A port's protocol "Defaults to "TCP"".
func containerPorts(spec *corev1.PodSpec) []netpol.Port {
	var out []netpol.Port
	add := func(c *corev1.Container) {
		for _, cp := range c.Ports {
			proto, err := netpol.ParseProtocol(string(cp.Protocol))
			if cp.Protocol == "" {
				proto, err = netpol.ProtocolTCP, nil
			}
			if err == nil && cp.ContainerPort > 0 && cp.ContainerPort <= 65535 {
				out = append(out, netpol.Port{Name: cp.Name, Protocol: proto, Port: uint16(cp.ContainerPort)})
			}
		}
	}
	for i := range spec.Containers {
		add(&spec.Containers[i])
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	return out
}
