package generate

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// policyKind says what a generated policy is for.
type policyKind uint8

const (
	kindDeny     policyKind = iota // default-deny: every pod, both ways
	kindDNS                        // allow-dns: every pod's egress to the cluster DNS
	kindDNSServe                   // allow-dns-from-cluster: the DNS pods' ingress from every pod
	kindWorkload                   // one workload's observed connections
)

// The names of the namespace-wide policies.
const (
	nameDeny     = "default-deny"
	nameDNS      = "allow-dns"
	nameDNSServe = "allow-dns-from-cluster"
)

// policyPlan is a policy before rendering, in either format.
type policyPlan struct {
	namespace, name string
	kind            policyKind
	workload        graph.Node
	// selector is the podSelector's matchLabels; nil selects every pod.
	selector        map[string]string
	ingress, egress []*rulePlan
	// isolate lists the directions the policy isolates (policyTypes).
	isolateIngress, isolateEgress bool
	window                        graph.Window
	notes                         []string
}

// peerKind says what a peer of a rule is.
type peerKind uint8

const (
	peerPods   peerKind = iota // pods by namespace and labels
	peerEntity                 // a reserved identity, written as addresses in NetworkPolicies
	peerAddrs                  // address blocks outside the cluster's pods
)

// peer is one peer of a rule.
type peer struct {
	kind peerKind
	// namespace and labels select pods (peerPods); anyNamespace selects
	// every pod of every namespace.
	namespace    string
	anyNamespace bool
	labels       map[string]string
	// prefixes are the address blocks of peerAddrs, and those a
	// peerEntity stands for in a NetworkPolicy (none: not expressible).
	prefixes []netip.Prefix
	// entities are the Cilium entities of a peerEntity.
	entities []string
	// names are the DNS names of the addresses of a peerAddrs.
	names []string
	// addrs are the addresses observed, inside prefixes.
	addrs []netip.Addr
	// nodes are the workloads a peerPods was made for.
	nodes []graph.Node
	key   string
}

// portSpec is one port of a rule: a number, a range (end > port) or a
// container port name.
type portSpec struct {
	protocol  netpol.Protocol
	port, end uint16
	name      string
}

// rulePlan is one rule: peers and ports. No ports means every port.
type rulePlan struct {
	peers    []*peer
	ports    []portSpec
	evidence []Evidence
	// dns marks the DNS rule: Cilium gets its DNS proxy rule.
	dns bool
}

// comparePeers orders peers: pods, then identities, then addresses.
func comparePeers(a, b *peer) int { return cmp.Compare(a.key, b.key) }

// podsPeer returns the peer selecting labels in namespace ns.
func podsPeer(ns string, labels map[string]string) *peer {
	return &peer{kind: peerPods, namespace: ns, labels: labels, key: "1|" + ns + "|" + formatLabels(labels)}
}

// addrsPeer returns the peer of an address block.
func addrsPeer(p netip.Prefix) *peer {
	return &peer{kind: peerAddrs, prefixes: []netip.Prefix{p}, key: "3|" + sortablePrefix(p)}
}

// entityPeer returns the peer of reserved identities that stand for addrs.
func entityPeer(addrs []netip.Addr, entities ...string) *peer {
	p := &peer{kind: peerEntity, entities: entities, key: "2|" + strings.Join(entities, ",")}
	for _, a := range addrs {
		p.prefixes = append(p.prefixes, netip.PrefixFrom(a, a.BitLen()))
		p.key += "|" + sortablePrefix(p.prefixes[len(p.prefixes)-1])
	}
	return p
}

// sortablePrefix spells p so that strings sort as prefixes do.
func sortablePrefix(p netip.Prefix) string {
	b, _ := p.Addr().MarshalBinary()
	return string(b) + string(rune(p.Bits()))
}

// group turns per-peer probes into rules: peers with the same probes (and
// of the same family: pods, or addresses and entities) share a rule.
// Rules are sorted by their probes, then peers.
func group(peers map[string]*peerProbes) []*rulePlan {
	bySig := map[string]*rulePlan{}
	for _, pp := range peers {
		sig := probeSignature(pp.probes)
		if pp.peer.kind == peerPods {
			sig = "p" + sig
		} else {
			sig = "x" + sig
		}
		r := bySig[sig]
		if r == nil {
			r = &rulePlan{}
			for _, p := range sortProbes(slices.Collect(maps.Keys(pp.probes))) {
				r.ports = append(r.ports, portSpec{protocol: p.Protocol, port: p.Port})
			}
			bySig[sig] = r
		}
		r.peers = append(r.peers, pp.peer)
		for _, ev := range pp.probes {
			r.evidence = append(r.evidence, ev...)
		}
	}
	var out []*rulePlan
	for _, sig := range slices.Sorted(maps.Keys(bySig)) {
		r := bySig[sig]
		slices.SortFunc(r.peers, comparePeers)
		slices.SortFunc(r.evidence, compareEvidence)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b *rulePlan) int {
		return cmp.Or(comparePorts(a.ports, b.ports), comparePeers(a.peers[0], b.peers[0]))
	})
	return out
}

// peerProbes accumulates the evidence of one peer, per probe.
type peerProbes struct {
	peer   *peer
	probes map[netpol.Probe][]Evidence
}

func probeSignature(m map[netpol.Probe][]Evidence) string {
	var b strings.Builder
	for _, p := range sortProbes(slices.Collect(maps.Keys(m))) {
		b.WriteString(p.String() + ",")
	}
	return b.String()
}

func comparePorts(a, b []portSpec) int {
	for i := range min(len(a), len(b)) {
		if c := cmp.Or(cmp.Compare(a[i].protocol, b[i].protocol), cmp.Compare(a[i].port, b[i].port)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareEvidence(a, b Evidence) int {
	return cmp.Or(cmp.Compare(a.Peer, b.Peer), a.Probe.Compare(b.Probe))
}
