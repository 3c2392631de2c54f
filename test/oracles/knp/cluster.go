package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/netpol/netpol/test/oracles/scenario"
	v1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// nodeName is the node every pod runs on and the node the evaluator serves.
// knp uses it only to decide which pods need dataplane rules, not in verdicts.
const nodeName = "oracle-node"

// srcPort is the fixed ephemeral source port of every packet.
const srcPort = 40000

// cluster is a scenario turned into Kubernetes API objects.
type cluster struct {
	c          *scenario.Case
	namespaces []*v1.Namespace
	pods       []*v1.Pod // index = endpoint index; nil for externals
	policies   []*networkingv1.NetworkPolicy
	ips        []net.IP // index = endpoint index
}

func newCluster(c *scenario.Case) (*cluster, error) {
	cl := &cluster{c: c}
	for _, ns := range c.Namespaces {
		cl.namespaces = append(cl.namespaces, &v1.Namespace{
			ObjectMeta: metav1.ObjectMeta{Name: ns.Name, Labels: ns.Labels},
			Status:     v1.NamespaceStatus{Phase: v1.NamespaceActive},
		})
	}
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		cl.ips = append(cl.ips, net.IP(ep.IP.AsSlice()))
		if ep.External() {
			cl.pods = append(cl.pods, nil)
			continue
		}
		cl.pods = append(cl.pods, newPod(ep.Pod))
	}
	for i, raw := range c.Policies {
		np := &networkingv1.NetworkPolicy{}
		if err := scenario.DecodeStrict(raw, np); err != nil {
			return nil, fmt.Errorf("policies[%d]: %w", i, err)
		}
		if err := checkSelectors(np); err != nil {
			return nil, fmt.Errorf("policy %q: %w", np.Namespace+"/"+np.Name, err)
		}
		cl.policies = append(cl.policies, np)
	}
	return cl, nil
}

// newPod builds a running pod with one container per port, so that port
// names only need to be unique per (port, protocol).
func newPod(p *scenario.Pod) *v1.Pod {
	pod := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels},
		Spec:       v1.PodSpec{NodeName: nodeName},
		Status: v1.PodStatus{
			Phase:  v1.PodRunning,
			PodIP:  p.IP,
			PodIPs: []v1.PodIP{{IP: p.IP}},
		},
	}
	for i, port := range p.Ports {
		pod.Spec.Containers = append(pod.Spec.Containers, v1.Container{
			Name:  "c" + strconv.Itoa(i),
			Image: "oracle",
			Ports: []v1.ContainerPort{{Name: port.Name, ContainerPort: port.Port, Protocol: v1.Protocol(port.Protocol)}},
		})
	}
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = []v1.Container{{Name: "c0", Image: "oracle"}}
	}
	return pod
}

// objects returns every API object, for the fake clientset.
func (cl *cluster) objects() []runtime.Object {
	var objs []runtime.Object
	for _, ns := range cl.namespaces {
		objs = append(objs, ns)
	}
	for _, pod := range cl.pods {
		if pod != nil {
			objs = append(objs, pod)
		}
	}
	for _, np := range cl.policies {
		objs = append(objs, np)
	}
	return objs
}

// checkSelectors rejects selectors that knp would silently treat as
// "accept" (it fails open when a selector does not parse).
func checkSelectors(np *networkingv1.NetworkPolicy) error {
	sels := []*metav1.LabelSelector{&np.Spec.PodSelector}
	for _, r := range np.Spec.Ingress {
		for _, p := range r.From {
			sels = append(sels, p.PodSelector, p.NamespaceSelector)
		}
	}
	for _, r := range np.Spec.Egress {
		for _, p := range r.To {
			sels = append(sels, p.PodSelector, p.NamespaceSelector)
		}
	}
	for _, s := range sels {
		if s == nil {
			continue
		}
		if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
			return fmt.Errorf("invalid label selector: %w", err)
		}
	}
	return nil
}
