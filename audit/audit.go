package audit

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// Options are the choices of an audit. The zero value audits every
// namespace with the upstream ipBlock semantics.
type Options struct {
	// Namespaces limits the findings to objects of these namespaces (and
	// to these Namespace objects); empty means every namespace. The checks
	// still see the whole snapshot: DNS in kube-system, policies elsewhere.
	Namespaces []string
	// IPBlockIgnoresPods is passed on to the simulator (see
	// simulate.Options).
	IPBlockIgnoresPods bool
}

// Run audits a snapshot: it compiles it with the addresses the checks
// probe (the cloud metadata address, node and API server addresses) as
// externals, runs every check and returns the findings, sorted. An error is
// a snapshot that does not compile (an invalid policy).
func Run(s *netpol.Snapshot, o Options) (*Report, error) {
	a := &auditor{snap: s, filter: map[string]bool{}}
	for _, ns := range o.Namespaces {
		a.filter[ns] = true
	}
	a.targets, a.dns = probeTargets(s), findDNS(s)
	compiled := s
	if !a.dns.hasPods(s.Endpoints()) {
		// Probe DNS where it runs by default, so that manifests without the
		// cluster's own objects are checked too.
		compiled = a.dns.withAssumedDNS(s)
	}
	opts := simulate.Options{IPBlockIgnoresPods: o.IPBlockIgnoresPods, Externals: a.targets.externals()}
	eng, err := simulate.Compile(compiled, opts)
	if err != nil {
		return nil, err
	}
	if compiled != s {
		a.note("dns-egress-denied: the snapshot has no cluster DNS pods; they are assumed to run in %s with labels %s, as kube-dns and CoreDNS do by default",
			dnsNamespace, labels.Set(a.dns.selector))
	}
	a.eng, a.eps = eng, eng.Endpoints()
	if err := a.index(); err != nil {
		return nil, err
	}
	for _, c := range checks {
		c.run(a, c)
	}
	sortFindings(a.findings)
	return &Report{Findings: a.findings, Notes: a.notes}, nil
}

// auditor is the state of one audit: the snapshot, its compiled engine and
// which policy selects which endpoint.
type auditor struct {
	snap    *netpol.Snapshot
	eng     *simulate.Engine
	eps     []netpol.Endpoint
	filter  map[string]bool // namespaces to report; empty: all
	targets targets
	dns     dns
	// pols are the defaulted policies, in the engine's order (by namespace
	// and name), so that a simulate.Decision's Policy indexes them.
	pols []*policyInfo
	// ingressOf and egressOf list, per endpoint, the policies that select
	// it for that direction.
	ingressOf, egressOf [][]int
	findings            []Finding
	notes               []string
	pods                map[string]*corev1.Pod           // by "ns/name", built on first use
	workloads           map[workloadKey]*netpol.Workload // built on first use
	namespaceLabels     map[string]map[string]string     // built on first use
	reqs                map[*metav1.LabelSelector][]string
}

// policyInfo is a defaulted policy, its policy types and the endpoints it
// selects.
type policyInfo struct {
	np              *networkingv1.NetworkPolicy
	ingress, egress bool
	selects         []simulate.EndpointID
}

func (p *policyInfo) object() Object {
	return Object{Kind: "NetworkPolicy", Namespace: p.np.Namespace, Name: p.np.Name}
}

func (p *policyInfo) id() string { return p.np.Namespace + "/" + p.np.Name }

// index defaults the policies in the engine's order and records which
// endpoints each selects.
func (a *auditor) index() error {
	byID := map[string]*networkingv1.NetworkPolicy{}
	for i := range a.snap.Policies {
		np := a.snap.Policies[i].DeepCopy()
		simulate.Default(np)
		byID[np.Namespace+"/"+np.Name] = np
	}
	a.ingressOf = make([][]int, len(a.eps))
	a.egressOf = make([][]int, len(a.eps))
	inNS := map[string][]int{}
	for i := range a.eps {
		if selectable(&a.eps[i]) {
			inNS[a.eps[i].Namespace] = append(inNS[a.eps[i].Namespace], i)
		}
	}
	for pi, ref := range a.eng.Policies() {
		np, ok := byID[ref.String()]
		if !ok {
			return fmt.Errorf("policy %s compiled but not found", ref)
		}
		sel, err := selectorOf(&np.Spec.PodSelector)
		if err != nil {
			return fmt.Errorf("NetworkPolicy %s: %w", ref, err)
		}
		p := &policyInfo{np: np}
		p.ingress = slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		p.egress = slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		for _, i := range inNS[np.Namespace] {
			ep := &a.eps[i]
			if !sel.Matches(labels.Set(ep.Labels)) {
				continue
			}
			if !assumed(ep) {
				p.selects = append(p.selects, simulate.EndpointID(i))
			}
			if p.ingress {
				a.ingressOf[i] = append(a.ingressOf[i], pi)
			}
			if p.egress {
				a.egressOf[i] = append(a.egressOf[i], pi)
			}
		}
		a.pols = append(a.pols, p)
	}
	return nil
}

// reports reports whether findings about objects of namespace ns are kept.
func (a *auditor) reports(ns string) bool { return len(a.filter) == 0 || a.filter[ns] }

// add records a finding of check c, unless the namespace of its object is
// filtered out. A zero severity is the check's.
func (a *auditor) add(c *check, f Finding) {
	ns := f.Object.Namespace
	if f.Object.Kind == "Namespace" {
		ns = f.Object.Name
	}
	a.addIn(ns, c, f)
}

// addIn records a finding about namespace ns, unless ns is filtered out.
func (a *auditor) addIn(ns string, c *check, f Finding) {
	if !a.reports(ns) {
		return
	}
	f.Check, f.Why = c.ID, c.Why
	if f.Severity == SeverityUnknown {
		f.Severity = c.Severity
	}
	a.findings = append(a.findings, f)
}

func (a *auditor) note(format string, args ...any) {
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
}

// subjects returns the endpoints policies can select (pods and workloads
// without pods, not hostNetwork) of the reported namespaces.
func (a *auditor) subjects() []simulate.EndpointID {
	var out []simulate.EndpointID
	for i := range a.eps {
		if selectable(&a.eps[i]) && !assumed(&a.eps[i]) && a.reports(a.eps[i].Namespace) {
			out = append(out, simulate.EndpointID(i))
		}
	}
	return out
}

// selectable reports whether podSelectors can select ep.
func selectable(ep *netpol.Endpoint) bool {
	return ep.Kind != netpol.EndpointExternal && !ep.HostNetwork
}

// assumed reports whether ep is the DNS workload the audit added.
func assumed(ep *netpol.Endpoint) bool {
	return ep.Kind == netpol.EndpointTemplate && ep.Namespace == dnsNamespace && ep.Name == assumedDNS
}

// lookup returns the endpoint at ip, if the engine has one.
func (a *auditor) lookup(ip netip.Addr) (simulate.EndpointID, bool) {
	return a.eng.Lookup(ip.String())
}
