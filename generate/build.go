package generate

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// Policies generates, for each namespace of o.Namespaces (every namespace
// with workloads when empty), the policies that allow exactly the
// connections observed in g: default-deny, allow-dns, and one policy per
// workload that saw traffic, with its observed sources as ingress rules
// and its observed destinations as egress rules. A namespace whose
// workloads saw no traffic is reported idle and left without policies (a
// default deny alone with o.LockIdle). The snapshot s gives the workloads'
// labels, ports and pods, the cluster DNS, the nodes' and the API server's
// addresses; its policies are kept by name (see ManagedByLabel). The result
// is deterministic.
func Policies(g *graph.Graph, s *netpol.Snapshot, o Options) (*Result, error) {
	if g == nil || s == nil {
		return nil, errors.New("generate: a graph and a snapshot are required")
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	inv := newInventory(s)
	b := &builder{g: g, inv: inv, o: o, edges: inv.edges(g), notes: map[Note]bool{},
		dnsOut: map[string][]Evidence{}, dnsIn: map[graph.Node][]Evidence{}}
	b.dns = discoverDNS(b.inv, b.edges)
	b.index()
	r := &Result{DNS: b.dns}
	for _, ns := range b.scope() {
		nsr, plans := b.namespace(ns)
		r.Namespaces = append(r.Namespaces, nsr)
		r.plans = append(r.plans, plans...)
	}
	for _, p := range r.plans {
		np, err := p.networkPolicy()
		if err != nil {
			return nil, fmt.Errorf("generating %s/%s: %w", p.namespace, p.name, err)
		}
		r.Policies = append(r.Policies, np)
	}
	r.Notes = b.sortedNotes()
	return r, nil
}

// builder holds what Policies works with.
type builder struct {
	g     *graph.Graph
	inv   *inventory
	o     Options
	dns   DNS
	edges []graph.Edge
	// in and out are the forwarded edges to and from each node.
	in, out map[graph.Node][]graph.Edge
	active  map[string]bool
	notes   map[Note]bool
	// dnsOut is the DNS evidence of each namespace's allow-dns; dnsIn that
	// of each DNS workload's ingress.
	dnsOut map[string][]Evidence
	dnsIn  map[graph.Node][]Evidence
}

func (b *builder) note(ns, subject, format string, args ...any) {
	b.notes[Note{Namespace: ns, Subject: subject, Message: fmt.Sprintf(format, args...)}] = true
}

func (b *builder) sortedNotes() []Note {
	var out []Note
	for n := range b.notes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Note) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Message, b.Message))
	})
	return out
}

// index sorts the forwarded edges by node and notes the namespaces that
// saw traffic.
func (b *builder) index() {
	b.in, b.out, b.active = map[graph.Node][]graph.Edge{}, map[graph.Node][]graph.Edge{}, map[string]bool{}
	for _, e := range b.edges {
		if len(e.Forwarded) == 0 {
			continue
		}
		b.out[e.From] = append(b.out[e.From], e)
		b.in[e.To] = append(b.in[e.To], e)
		b.active[e.From.Namespace] = true
		b.active[e.To.Namespace] = true
	}
}

// systemNamespaces are left out unless named: locking them down from
// what a learning window saw risks the cluster itself (the API server,
// upstream DNS, node agents).
var systemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// scope returns the namespaces to generate for, sorted.
func (b *builder) scope() []string {
	if len(b.o.Namespaces) == 0 {
		var out []string
		for _, ns := range b.inv.namespaces() {
			if systemNamespaces[ns] {
				b.note(ns, "", "system namespace left out of every-namespace generation: name it to generate for it")
				continue
			}
			out = append(out, ns)
		}
		return out
	}
	var out []string
	for _, ns := range b.o.Namespaces {
		if len(b.inv.byNamespace[ns]) == 0 {
			b.note(ns, "", "no workloads in the snapshot: nothing generated")
			continue
		}
		out = append(out, ns)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// namespace plans the policies of ns and reports on it.
func (b *builder) namespace(ns string) (Namespace, []*policyPlan) {
	nsr := Namespace{Name: ns, Window: b.g.Window(ns), Idle: !b.active[ns]}
	nsr.Policed = !nsr.Idle || b.o.LockIdle
	var plans []*policyPlan
	if nsr.Policed {
		plans = append(plans, &policyPlan{namespace: ns, name: nameDeny, kind: kindDeny, isolateIngress: true, isolateEgress: true})
	}
	if nsr.Idle {
		msg := "saw no traffic in its learning window"
		if nsr.Window.IsZero() {
			msg = "saw no traffic while learning (no flow of it at all)"
		}
		if b.o.LockIdle {
			msg += ": locked with a default deny only"
		} else {
			msg += ": no policies written (--lock-idle writes a default deny)"
		}
		b.note(ns, "", "%s", msg)
	} else {
		plans = append(plans, b.dnsPlans(ns)...)
	}
	for _, w := range b.inv.byNamespace[ns] {
		c := b.inv.selector(w)
		wr := Workload{Node: w.node, Idle: true, Selector: c.labels, Exact: c.exact}
		if !nsr.Idle {
			if p := b.workloadPlan(w, &wr); p != nil {
				plans = append(plans, p)
			}
		}
		nsr.Workloads = append(nsr.Workloads, wr)
	}
	b.assignNames(ns, plans)
	slices.SortStableFunc(plans, func(a, b *policyPlan) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name))
	})
	for _, p := range plans {
		p.window = nsr.Window
		b.attachDNSEvidence(p)
		for i := range nsr.Workloads {
			if wr := &nsr.Workloads[i]; p.kind == kindWorkload && wr.Node == p.workload {
				wr.Policy, wr.Rules = p.name, p.ruleReports()
			}
		}
	}
	return nsr, plans
}

// attachDNSEvidence gives the DNS policies of a namespace the DNS
// connections observed there as evidence.
func (b *builder) attachDNSEvidence(p *policyPlan) {
	var ev []Evidence
	switch p.kind {
	case kindDNS:
		ev = b.dnsOut[p.namespace]
	case kindDNSServe:
		for _, w := range b.inv.byNamespace[p.namespace] {
			if matchesKeys(p.selector, slices.Collect(maps.Keys(p.selector)), w.labels) {
				ev = append(ev, b.dnsIn[w.node]...)
			}
		}
	default:
		return
	}
	r := p.egress
	if p.kind == kindDNSServe {
		r = p.ingress
	}
	r[0].evidence = slices.SortedFunc(slices.Values(ev), compareEvidence)
}

// dnsPlans returns allow-dns for ns and, in the DNS's own namespace,
// allow-dns-from-cluster.
func (b *builder) dnsPlans(ns string) []*policyPlan {
	d := &b.dns
	if !d.Found() {
		b.note(ns, "", "no cluster DNS found in the snapshot or the flows: no allow-dns, so its pods cannot resolve names")
		return nil
	}
	// The DNS pods (and backends that are no pods) on the ports they
	// listen on; the Service and NodeLocal addresses on port 53.
	rule := &rulePlan{dns: true}
	for _, sel := range d.Selectors {
		rule.peers = append(rule.peers, podsPeer(d.Namespace, sel))
	}
	front := &rulePlan{dns: true}
	for _, a := range d.Addresses {
		p := addrsPeer(netip.PrefixFrom(a, a.BitLen()))
		if slices.Contains(d.front, a) {
			front.peers = append(front.peers, p)
		} else {
			rule.peers = append(rule.peers, p)
		}
	}
	for _, p := range d.Ports {
		rule.ports = append(rule.ports, portSpec{protocol: p.Protocol, port: p.Port})
	}
	for _, p := range dnsProbes {
		front.ports = append(front.ports, portSpec{protocol: p.Protocol, port: p.Port})
	}
	var rules []*rulePlan
	for _, r := range []*rulePlan{rule, front} {
		if len(r.peers) > 0 {
			rules = append(rules, r)
		}
	}
	out := []*policyPlan{{namespace: ns, name: nameDNS, kind: kindDNS, isolateEgress: true, egress: rules}}
	if ns != d.Namespace {
		return out
	}
	for i, sel := range d.Selectors {
		serve := &rulePlan{dns: true, peers: []*peer{{kind: peerPods, anyNamespace: true, key: "0|any"}}}
		for _, p := range d.Ports {
			serve.ports = append(serve.ports, portSpec{protocol: p.Protocol, port: p.Port})
		}
		name := nameDNSServe
		if i > 0 {
			name = fmt.Sprintf("%s-%d", nameDNSServe, i+1)
		}
		out = append(out, &policyPlan{namespace: ns, name: name, kind: kindDNSServe, selector: sel,
			isolateIngress: true, ingress: []*rulePlan{serve}})
	}
	return out
}
