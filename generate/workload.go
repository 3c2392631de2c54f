package generate

import (
	"cmp"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// workloadPlan plans w's policy from its observed edges; nil when w saw
// no traffic other than DNS, or cannot be selected. It fills wr.
func (b *builder) workloadPlan(w *workload, wr *Workload) *policyPlan {
	ns := w.node.Namespace
	if len(b.in[w.node])+len(b.out[w.node]) == 0 {
		return nil
	}
	if w.hostNetwork {
		b.note(ns, display(w.node), "uses the host network: no policy can select its pods, which act as their node")
		return nil
	}
	c := b.inv.selector(w)
	wr.Selector, wr.Exact = c.labels, c.exact
	if c.labels == nil {
		b.note(ns, display(w.node), "%s: no policy written, so the default deny blocks it", c.problem)
		return nil
	}
	serveDNS := ns == b.dns.Namespace && len(b.dns.Selectors) > 0
	ingress := map[string]*peerProbes{}
	for _, e := range b.in[w.node] {
		// allow-dns-from-cluster admits pods only; nodes and externals
		// asking the DNS get rules of their own.
		src := b.inv.workloads[e.From]
		fromPod := src != nil && !src.hostNetwork
		b.collect(ingress, w, e, e.From, true, func(p netpol.Probe) bool { return serveDNS && fromPod && b.dns.isDNS(w.node, p) })
	}
	egress := map[string]*peerProbes{}
	for _, e := range b.out[w.node] {
		b.collect(egress, w, e, e.To, false, func(p netpol.Probe) bool { return b.dns.isDNS(e.To, p) })
	}
	if len(ingress)+len(egress) == 0 {
		return nil
	}
	wr.Idle = false
	p := &policyPlan{namespace: ns, name: w.node.Name, kind: kindWorkload, workload: w.node, selector: c.labels,
		ingress: group(ingress), egress: group(egress)}
	p.isolateIngress, p.isolateEgress = len(p.ingress) > 0, len(p.egress) > 0
	if !c.exact {
		p.notes = append(p.notes, c.problem)
		b.note(ns, display(w.node), "%s", c.problem)
	}
	for _, r := range p.ingress {
		b.finishPorts(r, b.inv.ports(w))
	}
	for _, r := range p.egress {
		b.finishPorts(r, b.destinationPorts(r))
	}
	for _, r := range append(slices.Clone(p.ingress), p.egress...) {
		for _, n := range peerNotes(r) {
			p.notes = append(p.notes, n)
			if strings.HasPrefix(n, "traffic with") {
				b.note(ns, display(w.node), "%s", n)
			}
		}
	}
	slices.Sort(p.notes)
	p.notes = slices.Compact(p.notes)
	return p
}

// collect adds the forwarded ports of edge e, whose other end is other,
// to peers; skip leaves out DNS handled by the namespace-wide policies.
func (b *builder) collect(peers map[string]*peerProbes, w *workload, e graph.Edge, other graph.Node, in bool, skip func(netpol.Probe) bool) {
	samples := sampleAddrs(e, in)
	var pr *peer
	for _, ps := range e.Forwarded {
		probe := netpol.Probe{Protocol: ps.Protocol, Port: ps.Port}
		if skip(probe) {
			b.dnsEvidence(w, e, ps, in)
			continue
		}
		if !probe.Valid() {
			b.note(w.node.Namespace, display(e.From)+" -> "+display(e.To), "%s cannot be allowed by a NetworkPolicy (TCP, UDP and SCTP ports only): left out", probeText(probe))
			continue
		}
		if pr == nil {
			var problem string
			if pr, problem = b.peerFor(other, samples); pr == nil {
				b.note(w.node.Namespace, display(other), "%s: its connections with %s are left out", problem, display(w.node))
				return
			}
		}
		pp := peers[pr.key]
		if pp == nil {
			pp = &peerProbes{peer: pr, probes: map[netpol.Probe][]Evidence{}}
			peers[pr.key] = pp
		} else {
			pp.peer.merge(pr)
		}
		pp.probes[probe] = append(pp.probes[probe], Evidence{Peer: display(other), Probe: probe,
			Count: ps.Count, FirstSeen: ps.FirstSeen, LastSeen: ps.LastSeen})
	}
}

// merge adds the addresses, names and nodes of o (a peer of the same key)
// to p.
func (p *peer) merge(o *peer) {
	p.addrs = mergeSorted(p.addrs, o.addrs, netip.Addr.Compare)
	p.names = mergeSorted(p.names, o.names, cmp.Compare[string])
	p.nodes = mergeSorted(p.nodes, o.nodes, graph.Node.Compare)
}

func mergeSorted[T comparable](a, b []T, compare func(T, T) int) []T {
	out := append(slices.Clone(a), b...)
	slices.SortFunc(out, compare)
	return slices.Compact(out)
}

// probeText names a probe for people: "TCP/80", "ICMP".
func probeText(p netpol.Probe) string {
	if p.Protocol == netpol.ProtocolICMP || p.Port == 0 {
		return p.Protocol.String()
	}
	return p.String()
}

// peerFor returns the peer that stands for node n in a rule; samples are
// addresses n was seen with. It returns nil and the reason when n has no
// NetworkPolicy form.
func (b *builder) peerFor(n graph.Node, samples []netip.Addr) (*peer, string) {
	switch {
	case n.IsWorkload():
		return b.workloadPeer(n)
	case n.Kind == graph.KindExternal:
		a := n.Addr()
		p := addrsPeer(netip.PrefixFrom(a, b.o.prefixBits(a.BitLen())).Masked())
		p.addrs = []netip.Addr{a}
		p.names = fqdns(b.g.Names(a))
		return p, ""
	}
	// A reserved identity stands for the addresses the snapshot gives it
	// and those it was seen with.
	switch netpol.Reserved(n.Name) {
	case netpol.ReservedKubeAPIServer, netpol.ReservedHost, netpol.ReservedRemoteNode:
		return entityPeer(mergeSorted(b.inv.reservedAddrs(n), samples, netip.Addr.Compare), n.Name), ""
	case netpol.ReservedWorld:
		return entityPeer(nil, "world"), ""
	}
	return nil, "the reserved identity " + n.Name + " has no policy form"
}

// sampleAddrs returns the addresses that the sampled connections of e's
// forwarded ports give its source (when source is set) or destination.
func sampleAddrs(e graph.Edge, source bool) []netip.Addr {
	var out []netip.Addr
	for _, ps := range e.Forwarded {
		a := ps.Sample.Destination.IP
		if source {
			a = ps.Sample.Source.IP
		}
		if a.IsValid() {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// reservedAddrs returns the addresses the snapshot gives the reserved
// identity n: the API server is its endpoints, and a node identity stands
// for every node; nil for the others. The slice must not be changed.
func (inv *inventory) reservedAddrs(n graph.Node) []netip.Addr {
	switch netpol.Reserved(n.Name) {
	case netpol.ReservedKubeAPIServer:
		return inv.apiServer
	case netpol.ReservedHost, netpol.ReservedRemoteNode:
		return inv.allNodeAddrs
	}
	return nil
}

// workloadPeer returns the pods peer of a workload node.
func (b *builder) workloadPeer(n graph.Node) (*peer, string) {
	w := b.inv.workloads[n]
	if w == nil {
		return nil, "not in the snapshot (gone since, or give its manifests with -f)"
	}
	if w.hostNetwork {
		// Its pods act as their nodes: their addresses and their nodes'.
		var addrs []netip.Addr
		for _, i := range w.endpoints {
			addrs = append(addrs, b.inv.endpoints[i].IPs...)
		}
		for _, node := range w.nodes {
			addrs = append(addrs, b.inv.nodeAddrs[node]...)
		}
		if len(addrs) == 0 {
			return nil, "runs on the host network and has no pod yet: its address is not known"
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		p := entityPeer(slices.Compact(addrs), "host", "remote-node")
		p.nodes = []graph.Node{n}
		return p, ""
	}
	c := b.inv.selector(w)
	if c.labels == nil {
		return nil, c.problem
	}
	p := podsPeer(n.Namespace, c.labels)
	p.nodes = []graph.Node{n}
	return p, ""
}

// fqdnPattern is what Cilium accepts as a toFQDNs matchName.
var fqdnPattern = regexp.MustCompile(`^([-a-zA-Z0-9_]+[.]?)+$`)

// fqdns keeps the names Cilium can match: not in-cluster Service names.
func fqdns(names []string) []string {
	var out []string
	for _, n := range names {
		if fqdnPattern.MatchString(n) && !isClusterName(n) {
			out = append(out, n)
		}
	}
	return out
}

// isClusterName reports whether n is a Kubernetes Service or pod name.
func isClusterName(n string) bool {
	for _, suffix := range []string{".cluster.local", ".svc"} {
		if len(n) > len(suffix) && strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// peerNotes says what a reader of the policy should know about the peers
// of r.
func peerNotes(r *rulePlan) []string {
	var out []string
	for _, p := range r.peers {
		if p.kind != peerEntity {
			continue
		}
		switch {
		case len(p.prefixes) == 0:
			out = append(out, "traffic with "+p.entities[0]+" (no address known) cannot be written as a NetworkPolicy rule; only the Cilium form allows it")
		case slices.Contains(p.entities, "kube-apiserver"):
			out = append(out, "the API server is allowed by its endpoint addresses")
		default:
			out = append(out, "nodes are allowed by their addresses; traffic between a pod and its own node is allowed by most network plugins anyway")
		}
	}
	return out
}

// dnsEvidence records a DNS connection of w, allowed by the namespace-wide
// DNS policies, as their evidence.
func (b *builder) dnsEvidence(w *workload, e graph.Edge, ps graph.PortStats, in bool) {
	ev := Evidence{Peer: display(e.From) + " -> " + display(e.To), Probe: netpol.Probe{Protocol: ps.Protocol, Port: ps.Port},
		Count: ps.Count, FirstSeen: ps.FirstSeen, LastSeen: ps.LastSeen}
	if in {
		b.dnsIn[w.node] = append(b.dnsIn[w.node], ev)
	} else {
		b.dnsOut[w.node.Namespace] = append(b.dnsOut[w.node.Namespace], ev)
	}
}
