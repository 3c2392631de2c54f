package audit

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// The cluster DNS as kube-dns and CoreDNS deploy it by default, and as the
// allow-dns-egress recipe assumes.
const (
	dnsNamespace = "kube-system"
	dnsService   = "kube-dns"
	// assumedDNS names the workload the audit adds when the snapshot has no
	// DNS pods, so that DNS can still be probed.
	assumedDNS = "netpol-assumed-kube-dns"
)

var (
	defaultDNSLabels = map[string]string{"k8s-app": "kube-dns"}
	dnsProbe         = netpol.Probe{Protocol: netpol.ProtocolUDP, Port: 53}
)

// dns is where the cluster DNS is: the kube-dns Service and its selector.
type dns struct {
	svc      *corev1.Service
	selector map[string]string
}

func findDNS(s *netpol.Snapshot) dns {
	d := dns{selector: defaultDNSLabels}
	for i := range s.Services {
		v := &s.Services[i]
		if v.Namespace == dnsNamespace && v.Name == dnsService {
			d.svc = v
			if len(v.Spec.Selector) > 0 {
				d.selector = v.Spec.Selector
			}
		}
	}
	return d
}

// hasPods reports whether an endpoint of the DNS namespace matches the
// selector.
func (d dns) hasPods(eps []netpol.Endpoint) bool {
	sel := labels.SelectorFromSet(d.selector)
	return slices.ContainsFunc(eps, func(ep netpol.Endpoint) bool {
		return selectable(&ep) && ep.Namespace == dnsNamespace && sel.Matches(labels.Set(ep.Labels))
	})
}

// withAssumedDNS returns a copy of s with a workload standing for the
// cluster DNS pods: the selector's labels and port 53, UDP and TCP.
func (d dns) withAssumedDNS(s *netpol.Snapshot) *netpol.Snapshot {
	c := *s
	c.Workloads = append(slices.Clone(s.Workloads), netpol.Workload{
		Kind:       "Deployment",
		ObjectMeta: metav1.ObjectMeta{Namespace: dnsNamespace, Name: assumedDNS},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(d.selector)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dns", Ports: []corev1.ContainerPort{
				{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
			}}}},
		},
	})
	return &c
}

// dnsTargets returns the DNS backends and the probe each gets: from the
// Service's ClusterIP when the engine can resolve it, else the endpoints
// that match the selector, on 53/UDP.
func (a *auditor) dnsTargets() []simulate.Target {
	if v := a.dns.svc; v != nil {
		if ip, err := netip.ParseAddr(v.Spec.ClusterIP); err == nil {
			if ts, ok := a.eng.ServiceTargets(ip, dnsProbe); ok && len(ts) > 0 {
				return ts
			}
		}
	}
	sel := labels.SelectorFromSet(a.dns.selector)
	var out []simulate.Target
	for i := range a.eps {
		ep := &a.eps[i]
		if selectable(ep) && ep.Namespace == dnsNamespace && sel.Matches(labels.Set(ep.Labels)) {
			out = append(out, simulate.Target{Endpoint: simulate.EndpointID(i), Probe: dnsProbe})
		}
	}
	return out
}

func checkDNS(a *auditor, c *check) {
	targets := a.dnsTargets()
	if len(targets) == 0 {
		a.note("%s: the kube-dns Service has no backends in the snapshot", c.ID)
		return
	}
	type cause struct {
		ns     string
		policy int // the policy to fix
		egress bool
	}
	var causes []cause
	failing := map[cause][]simulate.EndpointID{}
	for _, src := range a.subjects() {
		if slices.ContainsFunc(targets, func(t simulate.Target) bool { return t.Endpoint == src }) {
			continue
		}
		var last simulate.Result
		ok := slices.ContainsFunc(targets, func(t simulate.Target) bool {
			last = a.eng.Evaluate(src, t.Endpoint, t.Probe)
			return last.Verdict == simulate.Allowed
		})
		if ok {
			continue
		}
		k := cause{ns: a.eps[src].Namespace, egress: last.Egress.Verdict == simulate.Denied}
		if k.egress {
			k.policy = a.egressOf[src][0]
		} else if of := a.ingressOf[targets[len(targets)-1].Endpoint]; len(of) > 0 {
			k.policy = of[0]
		}
		if _, seen := failing[k]; !seen {
			causes = append(causes, k)
		}
		failing[k] = append(failing[k], src)
	}
	for _, k := range causes {
		ids := failing[k]
		p := a.pols[k.policy]
		msg := fmt.Sprintf("%s of namespace %s (%s) cannot reach the cluster DNS (%s) on UDP/53",
			a.count(ids), k.ns, a.names(ids), a.dnsText(targets))
		f := Finding{Object: p.object(), Field: "spec.egress", Fix: a.dnsFix(k.ns)}
		if k.egress {
			f.Message = msg + ": egress isolated by " + a.policyList(a.egressOf[ids[0]]) + ", and no rule allows DNS"
		} else {
			f.Field = "spec.ingress"
			f.Message = msg + ": the DNS pods' ingress policies (" + p.id() + ") do not let it in"
			f.Fix = fmt.Sprintf("netpol recipe render allow-ports -n %s --set app=%s --set ports=53/UDP,53/TCP", dnsNamespace, labels.Set(a.dns.selector))
		}
		a.addIn(k.ns, c, f)
	}
}

func (a *auditor) dnsText(targets []simulate.Target) string {
	var ids []simulate.EndpointID
	for _, t := range targets {
		if assumed(&a.eps[t.Endpoint]) {
			return fmt.Sprintf("assumed: pods labelled %s in %s", labels.Set(a.dns.selector), dnsNamespace)
		}
		ids = append(ids, t.Endpoint)
	}
	return a.names(ids)
}

func (a *auditor) policyList(pols []int) string {
	var s []string
	for _, pi := range pols {
		s = append(s, a.pols[pi].id())
	}
	return strings.Join(s, ", ")
}

// dnsFix is the recipe that allows DNS from namespace ns, with the DNS
// pods' labels when they are not the default ones.
func (a *auditor) dnsFix(ns string) string {
	fix := "netpol recipe render allow-dns-egress -n " + ns
	if !maps.Equal(a.dns.selector, defaultDNSLabels) {
		fix += " --set dnsPods=" + labels.Set(a.dns.selector).String()
	}
	return fix
}
