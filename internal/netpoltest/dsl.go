package netpoltest

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol"
)

// Labels parses "k=v,k2=v2" ("" is no labels).
func Labels(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// Namespace returns a namespace "name" with labels "k=v,...".
func Namespace(name, labels string) corev1.Namespace {
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: Labels(labels)}}
}

// Pod returns a running pod "ns/name" with labels "k=v,...", an IP ("" for
// none) and container ports "name:80/TCP" or "80/UDP" separated by spaces.
func Pod(id, labels, ip, ports string) corev1.Pod {
	ns, name, _ := strings.Cut(id, "/")
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: Labels(labels)},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
	if ip != "" {
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	c := corev1.Container{Name: "main"}
	for _, f := range strings.Fields(ports) {
		name, num, found := strings.Cut(f, ":")
		if !found {
			name, num = "", f
		}
		n, proto, _ := strings.Cut(num, "/")
		port, _ := strconv.Atoi(n)
		if proto == "" {
			proto = "TCP"
		}
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: int32(port), Protocol: corev1.Protocol(proto)})
	}
	p.Spec.Containers = []corev1.Container{c}
	return p
}

// Policy decodes a NetworkPolicy from YAML, as a test writes it inline. It
// panics on invalid YAML: tests only.
func Policy(doc string) networkingv1.NetworkPolicy {
	var np networkingv1.NetworkPolicy
	if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
		panic(fmt.Sprintf("netpoltest.Policy: %v\n%s", err, doc))
	}
	return np
}

// Probe parses "TCP/80"; it panics on bad input: tests only.
func Probe(s string) netpol.Probe {
	p, err := netpol.ParseProbe(s)
	if err != nil {
		panic(err)
	}
	return p
}
