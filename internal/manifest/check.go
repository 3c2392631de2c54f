package manifest

import (
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// checkMeta checks what every object needs: a name, a valid namespace (it
// is already defaulted) and valid labels.
func checkMeta(obj any) ([]string, []*simulate.FieldError) {
	m := obj.(metav1.Object)
	var out []*simulate.FieldError
	if m.GetName() == "" {
		out = append(out, &simulate.FieldError{Field: "metadata.name", Detail: "required"})
	}
	if ns := m.GetNamespace(); ns != "" {
		for _, msg := range content.IsDNS1123Label(ns) {
			out = append(out, &simulate.FieldError{Field: "metadata.namespace", Detail: fmt.Sprintf("invalid namespace %q: %s", ns, msg)})
		}
	}
	return nil, append(out, simulate.ValidateLabels("metadata.labels", m.GetLabels())...)
}

// checkNamespace also checks that the name is a DNS-1123 label, and warns
// when the labels give kubernetes.io/metadata.name another value: the API
// server sets it to the name.
func checkNamespace(obj any) ([]string, []*simulate.FieldError) {
	_, out := checkMeta(obj)
	ns := obj.(*corev1.Namespace)
	if ns.Name == "" {
		return nil, out
	}
	for _, msg := range content.IsDNS1123Label(ns.Name) {
		out = append(out, &simulate.FieldError{Field: "metadata.name", Detail: fmt.Sprintf("invalid namespace name %q: %s", ns.Name, msg)})
	}
	var warnings []string
	if v, ok := ns.Labels[netpol.NamespaceNameLabel]; ok && v != ns.Name {
		warnings = append(warnings, fmt.Sprintf("metadata.labels[%s]: %q is replaced by the name %q, as the API server does", netpol.NamespaceNameLabel, v, ns.Name))
	}
	return warnings, out
}

// checkPolicy defaults and validates a NetworkPolicy as the API server does;
// its warnings are the API server's.
func checkPolicy(obj any) ([]string, []*simulate.FieldError) {
	np := obj.(*networkingv1.NetworkPolicy)
	simulate.Default(np)
	var pe *simulate.PolicyError
	if err := simulate.Validate(np); errors.As(err, &pe) {
		return simulate.Warnings(np), pe.Problems
	}
	return simulate.Warnings(np), nil
}

// checkPod also checks the pod and host IPs: valid addresses in the
// standard form, at most one per family, and podIP equal to podIPs[0].
func checkPod(obj any) ([]string, []*simulate.FieldError) {
	_, out := checkMeta(obj)
	st := &obj.(*corev1.Pod).Status
	var podIPs, hostIPs []string
	for _, ip := range st.PodIPs {
		podIPs = append(podIPs, ip.IP)
	}
	for _, ip := range st.HostIPs {
		hostIPs = append(hostIPs, ip.IP)
	}
	out = append(out, checkIPs("status.podIP", "status.podIPs", st.PodIP, podIPs)...)
	return nil, append(out, checkIPs("status.hostIP", "status.hostIPs", st.HostIP, hostIPs)...)
}

// checkIPs checks a single IP field and its dual-stack list.
func checkIPs(single, list, ip string, ips []string) []*simulate.FieldError {
	var out []*simulate.FieldError
	bad := func(field, ip string) bool {
		if _, err := netip.ParseAddr(ip); err != nil {
			out = append(out, &simulate.FieldError{Field: field, Detail: fmt.Sprintf("invalid IP %q", ip)})
			return true
		}
		return false
	}
	if ip != "" && !bad(single, ip) && len(ips) > 0 {
		if first, err := netip.ParseAddr(ips[0]); err == nil && first != netip.MustParseAddr(ip) {
			out = append(out, &simulate.FieldError{Field: single, Detail: fmt.Sprintf("%q differs from %s[0] %q", ip, list, ips[0])})
		}
	}
	families := map[bool]bool{}
	for i, s := range ips {
		f := fmt.Sprintf("%s[%d].ip", list, i)
		if bad(f, s) {
			continue
		}
		is4 := netip.MustParseAddr(s).Unmap().Is4()
		if families[is4] {
			out = append(out, &simulate.FieldError{Field: f, Detail: fmt.Sprintf("%q is a second address of the same IP family", s)})
		}
		families[is4] = true
	}
	return out
}

// checkService also checks the selector labels and the cluster IPs.
func checkService(obj any) ([]string, []*simulate.FieldError) {
	_, out := checkMeta(obj)
	spec := &obj.(*corev1.Service).Spec
	out = append(out, simulate.ValidateLabels("spec.selector", spec.Selector)...)
	if spec.ClusterIP != "" && spec.ClusterIP != corev1.ClusterIPNone {
		out = append(out, checkIPs("spec.clusterIP", "spec.clusterIPs", spec.ClusterIP, nil)...)
	}
	for i, ip := range spec.ClusterIPs {
		if ip != corev1.ClusterIPNone {
			out = append(out, checkIPs(fmt.Sprintf("spec.clusterIPs[%d]", i), "", ip, nil)...)
		}
	}
	return nil, out
}

// checkEndpointSlice also checks the addresses of IPv4 and IPv6 slices.
func checkEndpointSlice(obj any) ([]string, []*simulate.FieldError) {
	_, out := checkMeta(obj)
	es := obj.(*discoveryv1.EndpointSlice)
	if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
		return nil, out
	}
	for i, ep := range es.Endpoints {
		for j, a := range ep.Addresses {
			addr, err := netip.ParseAddr(a)
			if err == nil && addr.Is4() == (es.AddressType == discoveryv1.AddressTypeIPv4) {
				continue
			}
			out = append(out, &simulate.FieldError{Field: fmt.Sprintf("endpoints[%d].addresses[%d]", i, j), Detail: fmt.Sprintf("invalid %s address %q", es.AddressType, a)})
		}
	}
	return nil, out
}
