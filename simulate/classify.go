package simulate

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
)

// selectable reports whether podSelectors can select ep: pods and templates,
// but never hostNetwork pods, which act as their node.
func selectable(ep *netpol.Endpoint) bool {
	return (ep.Kind == netpol.EndpointPod || ep.Kind == netpol.EndpointTemplate) && !ep.HostNetwork
}

// policyPorts returns the ports that named ports resolve on: a pod's or
// template's container ports; none for an endpoint that acts as a node or
// lies outside the cluster.
func policyPorts(ep *netpol.Endpoint) []netpol.Port {
	if !selectable(ep) {
		return nil
	}
	return ep.Ports
}

// labelMatches reports whether a selector peer (not an ipBlock) matches ep.
func (pr *peer) labelMatches(ep *netpol.Endpoint) bool {
	if !selectable(ep) {
		return false
	}
	switch pr.kind {
	case peerPods:
		return ep.Namespace == pr.namespace && pr.pods.Matches(labels.Set(ep.Labels))
	case peerNamespaces:
		return pr.namespaces.Matches(labels.Set(ep.NamespaceLabels))
	case peerPodsInNamespaces:
		return pr.namespaces.Matches(labels.Set(ep.NamespaceLabels)) && pr.pods.Matches(labels.Set(ep.Labels))
	}
	return false
}

// inBlock reports whether a is inside the block's CIDR and outside every
// except. IPv4 and IPv6 never match each other.
func (pr *peer) inBlock(a netip.Addr) bool {
	if !a.IsValid() || !pr.cidr.Contains(a) {
		return false
	}
	for _, x := range pr.except {
		if x.Contains(a) {
			return false
		}
	}
	return true
}

// ipBlockMatches reports whether an ipBlock peer matches ep. Externals and
// node addresses (hostNetwork pods) match by address. Pods match by their
// primary IP unless Options.IPBlockIgnoresPods. A template, whose pods have
// no address yet, matches only a block that holds every address pods can get
// (the nodes' podCIDRs; without nodes, the whole address family) with no
// except cutting into it.
func (e *Engine) ipBlockMatches(pr *peer, ep *netpol.Endpoint) bool {
	switch e.ipBlockSide(ep) {
	case byAddress:
		return pr.inBlock(ep.IP())
	case byPodRanges:
		return e.holdsAllPods(pr)
	}
	return false
}

// blockSide is how ipBlock peers meet an endpoint.
type blockSide uint8

const (
	notByBlock  blockSide = iota // no ipBlock matches it
	byAddress                    // a block matches it when it holds its address
	byPodRanges                  // a block matches it when it holds every pod address
)

// ipBlockSide says how ipBlock peers meet ep: the rule ipBlockMatches
// (explanations) and ipBlockMembers (classes) share.
func (e *Engine) ipBlockSide(ep *netpol.Endpoint) blockSide {
	switch {
	case ep.Kind == netpol.EndpointExternal || ep.HostNetwork:
		return byAddress
	case e.opts.IPBlockIgnoresPods:
		return notByBlock
	case ep.Kind == netpol.EndpointPod:
		return byAddress
	case ep.Kind == netpol.EndpointTemplate:
		return byPodRanges
	}
	return notByBlock
}

func (e *Engine) holdsAllPods(pr *peer) bool {
	ranges := e.podRanges
	if len(ranges) == 0 {
		all := netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		if pr.cidr.Addr().Is4() {
			all = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
		ranges = []netip.Prefix{all}
	}
	found := false
	for _, r := range ranges {
		if r.Addr().Is4() != pr.cidr.Addr().Is4() {
			continue
		}
		found = true
		if pr.cidr.Bits() > r.Bits() || !pr.cidr.Contains(r.Addr()) {
			return false
		}
		for _, x := range pr.except {
			if x.Overlaps(r) {
				return false
			}
		}
	}
	return found
}

// podRanges returns the nodes' podCIDRs.
func podRanges(s *netpol.Snapshot) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range s.Nodes {
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			if p, err := netip.ParsePrefix(c); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}

// nodeAddresses maps every node address to its node's name.
func nodeAddresses(s *netpol.Snapshot) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for i := range s.Nodes {
		for _, ip := range netpol.NodeIPs(&s.Nodes[i]) {
			out[ip] = s.Nodes[i].Name
		}
	}
	return out
}

// classify sorts endpoints into classes. Endpoints with the same namespace,
// labels and named ports form a group that every selector treats alike; a
// group splits into classes by ipBlock membership. The node an endpoint runs
// on or stands for is kept per endpoint, outside the classes, so that node
// addresses do not split every class by node.
func (e *Engine) classify(s *netpol.Snapshot) {
	e.locateNodes(s)
	groupOf := make([]int, len(e.endpoints))
	var groups []*group
	byKey := map[string]int{}
	for i := range e.endpoints {
		k := groupKey(&e.endpoints[i])
		g, ok := byKey[k]
		if !ok {
			g = len(groups)
			byKey[k] = g
			groups = append(groups, &group{rep: EndpointID(i)})
		}
		groupOf[i] = g
	}
	e.matchGroups(groups)
	blocks := e.ipBlockMembers()
	classKey := map[string]int32{}
	e.classOf = make([]int32, len(e.endpoints))
	var key strings.Builder
	for i := range e.endpoints {
		ep := &e.endpoints[i]
		g := groups[groupOf[i]]
		key.Reset()
		key.WriteString(strconv.Itoa(groupOf[i]))
		matched := blocks[i]
		for _, pi := range matched {
			key.WriteByte(',')
			key.WriteString(strconv.Itoa(int(pi)))
		}
		c, ok := classKey[key.String()]
		if !ok {
			c = int32(len(e.classes))
			classKey[key.String()] = c
			bits := slices.Clone(g.peers)
			for _, pi := range matched {
				bits.set(int(pi))
			}
			e.classes = append(e.classes, class{
				subject: selectable(ep),
				ingress: g.ingress, egress: g.egress, peers: bits, ports: policyPorts(ep),
				inRules: g.inRules, egRules: g.egRules,
			})
		}
		e.classOf[i] = c
	}
}

// group is a set of endpoints that every label selector treats alike.
type group struct {
	rep     EndpointID
	ingress []int32
	egress  []int32
	peers   bitset // label peers only; ipBlocks are per endpoint
	inRules []ruleRef
	egRules []ruleRef
}

func groupKey(ep *netpol.Endpoint) string {
	var b strings.Builder
	if !selectable(ep) {
		return "!"
	}
	b.WriteString(ep.Namespace)
	b.WriteByte(0)
	keys := make([]string, 0, len(ep.Labels))
	for k := range ep.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ep.Labels[k])
		b.WriteByte(0)
	}
	b.WriteByte(1)
	named := make([]string, 0, len(ep.Ports))
	for _, p := range ep.Ports {
		if p.Name != "" {
			named = append(named, p.Name+"/"+p.Protocol.String()+"/"+strconv.Itoa(int(p.Port)))
		}
	}
	slices.Sort(named)
	b.WriteString(strings.Join(named, ","))
	return b.String()
}

// matchGroups computes, once per group, the label peers that match it and
// the policies that select it. Pod-only peers and subjects are looked up by
// namespace; namespace selectors are matched once per namespace.
func (e *Engine) matchGroups(groups []*group) {
	podPeers := map[string][]int32{} // namespace -> peerPods
	var nsPeers []int32              // peerNamespaces, peerPodsInNamespaces
	for i := range e.peers {
		switch e.peers[i].kind {
		case peerPods:
			podPeers[e.peers[i].namespace] = append(podPeers[e.peers[i].namespace], int32(i))
		case peerNamespaces, peerPodsInNamespaces:
			nsPeers = append(nsPeers, int32(i))
		}
	}
	policiesIn := map[string][]int32{}
	for i := range e.policies {
		policiesIn[e.policies[i].namespace] = append(policiesIn[e.policies[i].namespace], int32(i))
	}
	nsMatched := map[string][]int32{}
	for _, g := range groups {
		g.peers = newBitset(len(e.peers))
		ep := &e.endpoints[g.rep]
		if !selectable(ep) {
			continue
		}
		matched, ok := nsMatched[ep.Namespace]
		if !ok {
			nsl := labels.Set(ep.NamespaceLabels)
			for _, pi := range nsPeers {
				if e.peers[pi].namespaces.Matches(nsl) {
					matched = append(matched, pi)
				}
			}
			nsMatched[ep.Namespace] = matched
		}
		pl := labels.Set(ep.Labels)
		for _, pi := range podPeers[ep.Namespace] {
			if e.peers[pi].pods.Matches(pl) {
				g.peers.set(int(pi))
			}
		}
		for _, pi := range matched {
			if e.peers[pi].kind == peerNamespaces || e.peers[pi].pods.Matches(pl) {
				g.peers.set(int(pi))
			}
		}
		for _, pi := range policiesIn[ep.Namespace] {
			p := &e.policies[pi]
			if !p.subject.Matches(pl) {
				continue
			}
			if p.ingress {
				g.ingress = append(g.ingress, pi)
			}
			if p.egress {
				g.egress = append(g.egress, pi)
			}
		}
		g.inRules, g.egRules = e.flattenRules(g.ingress, Ingress), e.flattenRules(g.egress, Egress)
	}
}

// ipBlockMembers returns, per endpoint, the ipBlock peers that match it, in
// peer order. Address-matched endpoints are sorted by address once, and each
// block finds its members by binary search, so the cost grows with the
// matches, not with blocks times endpoints.
func (e *Engine) ipBlockMembers() [][]int32 {
	out := make([][]int32, len(e.endpoints))
	type member struct {
		ip netip.Addr
		id int
	}
	var byAddr []member
	var templates []int
	for i := range e.endpoints {
		ep := &e.endpoints[i]
		switch e.ipBlockSide(ep) {
		case byAddress:
			if ep.IP().IsValid() {
				byAddr = append(byAddr, member{ep.IP(), i})
			}
		case byPodRanges:
			templates = append(templates, i)
		}
	}
	slices.SortFunc(byAddr, func(a, b member) int { return a.ip.Compare(b.ip) })
	for pi := range e.peers {
		pr := &e.peers[pi]
		if pr.kind != peerIPBlock {
			continue
		}
		first, last := pr.cidr.Masked().Addr(), LastAddr(pr.cidr)
		lo, _ := slices.BinarySearchFunc(byAddr, first, func(m member, a netip.Addr) int { return m.ip.Compare(a) })
		for _, m := range byAddr[lo:] {
			if m.ip.Compare(last) > 0 {
				break
			}
			if pr.inBlock(m.ip) {
				out[m.id] = append(out[m.id], int32(pi))
			}
		}
		if len(templates) > 0 && e.holdsAllPods(pr) {
			for _, id := range templates {
				out[id] = append(out[id], int32(pi))
			}
		}
	}
	return out
}

// LastAddr returns the highest address of p: its masked address with every
// host bit set.
func LastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	start := 0
	if p.Addr().Is4() {
		start = 12
	}
	for bit := p.Bits() + start*8; bit < 128; bit++ {
		a[bit/8] |= 1 << (7 - bit%8)
	}
	if p.Addr().Is4() {
		return netip.AddrFrom4([4]byte(a[12:]))
	}
	return netip.AddrFrom16(a)
}

// locateNodes records, per endpoint, the node it runs on (a selectable pod)
// or stands for (a hostNetwork pod, an external at a node address), as an
// index into a table of node names (0: none).
func (e *Engine) locateNodes(s *netpol.Snapshot) {
	nodeOf := nodeAddresses(s)
	ids := map[string]int32{}
	id := func(name string) int32 {
		if name == "" {
			return 0
		}
		if n, ok := ids[name]; ok {
			return n
		}
		ids[name] = int32(len(ids) + 1)
		return ids[name]
	}
	e.epNode = make([]int32, len(e.endpoints))
	e.nodeish = make([]bool, len(e.endpoints))
	for i := range e.endpoints {
		ep := &e.endpoints[i]
		switch {
		case selectable(ep):
			e.epNode[i] = id(ep.NodeName)
		case ep.HostNetwork:
			e.epNode[i], e.nodeish[i] = id(ep.NodeName), ep.NodeName != ""
		case ep.Kind == netpol.EndpointExternal:
			name := nodeOf[ep.IP()]
			e.epNode[i], e.nodeish[i] = id(name), name != ""
		}
	}
}

// residentPair reports whether one side is a node address and the other a
// pod running on that node: "traffic to and from the node where a Pod is
// running is always allowed, regardless of the IP address of the Pod or the
// node".
func (e *Engine) residentPair(src, dst EndpointID) (toPod, fromPod bool) {
	n := e.epNode[src]
	if n == 0 || n != e.epNode[dst] {
		return false, false
	}
	return e.nodeish[src] && !e.nodeish[dst], e.nodeish[dst] && !e.nodeish[src]
}
