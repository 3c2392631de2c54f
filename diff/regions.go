package diff

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// region is a range of external addresses that every policy of both sides
// treats alike: a prefix of the policies' ipBlocks (or the whole address
// family) minus the narrower prefixes inside it.
type region struct {
	prefix   netip.Prefix
	children []netip.Prefix // the largest prefixes of the set strictly inside prefix, sorted
	rep      netip.Addr     // an address of the region that is no pod's or node's
}

// maxRegionProbe bounds the addresses tried for a region's representative;
// a region full of pod and node addresses past it is left out.
const maxRegionProbe = 1 << 16

// maxChildrenNamed is how many carved-out ranges a region's name lists.
const maxChildrenNamed = 3

// name describes the region: its prefix and what is carved out of it.
func (r *region) name() string {
	if len(r.children) == 0 {
		return r.prefix.String()
	}
	var parts []string
	for i, c := range r.children {
		if i == maxChildrenNamed {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.children)-i))
			break
		}
		parts = append(parts, c.String())
	}
	return r.prefix.String() + " except " + strings.Join(parts, ", ")
}

// regions partitions the external address space by the ipBlock prefixes of
// the snapshots' policies: one region per prefix (and per address family in
// use, for the rest of the world), minus the narrower prefixes inside it.
// Regions with no address left (fully carved out, or only pod and node
// addresses) are left out. The IPv6 world is included when an address of
// avoid, a policy or observed traffic (v6) is IPv6. The result is sorted by
// prefix.
func regions(snaps []*netpol.Snapshot, avoid map[netip.Addr]bool, v6 bool) []region {
	set := map[netip.Prefix]bool{netip.PrefixFrom(netip.IPv4Unspecified(), 0): true}
	for _, s := range snaps {
		for _, p := range policyPrefixes(s.Policies) {
			set[p] = true
			v6 = v6 || p.Addr().Is6()
		}
	}
	for a := range avoid {
		v6 = v6 || a.Is6()
	}
	if v6 {
		set[netip.PrefixFrom(netip.IPv6Unspecified(), 0)] = true
	}
	all := make([]netip.Prefix, 0, len(set))
	for p := range set {
		all = append(all, p)
	}
	slices.SortFunc(all, comparePrefix)
	var out []region
	for _, p := range all {
		r := region{prefix: p, children: children(p, all)}
		if r.rep = r.representative(avoid); r.rep.IsValid() {
			out = append(out, r)
		}
	}
	return out
}

// comparePrefix orders prefixes by address, then shorter first.
func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// policyPrefixes returns the cidr and except prefixes of every ipBlock of
// the policies; values that do not parse are left to the compiler.
func policyPrefixes(nps []networkingv1.NetworkPolicy) []netip.Prefix {
	var out []netip.Prefix
	add := func(peers []networkingv1.NetworkPolicyPeer) {
		for _, pr := range peers {
			if pr.IPBlock == nil {
				continue
			}
			for _, s := range append([]string{pr.IPBlock.CIDR}, pr.IPBlock.Except...) {
				if p, err := simulate.ParseIPBlockCIDR(s); err == nil {
					out = append(out, p.Masked())
				}
			}
		}
	}
	for i := range nps {
		for _, r := range nps[i].Spec.Ingress {
			add(r.From)
		}
		for _, r := range nps[i].Spec.Egress {
			add(r.To)
		}
	}
	return out
}

// children returns the largest prefixes of all (sorted by comparePrefix)
// strictly inside p; prefixes nest or are disjoint, so they are disjoint.
func children(p netip.Prefix, all []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, q := range all {
		if q.Bits() <= p.Bits() || q.Addr().Is4() != p.Addr().Is4() || !p.Contains(q.Addr()) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Contains(q.Addr()) {
			continue
		}
		out = append(out, q)
	}
	return out
}

// representative returns the first address of the region that is in no
// child and not in avoid, or the zero Addr.
func (r *region) representative(avoid map[netip.Addr]bool) netip.Addr {
	a, ci := r.prefix.Addr(), 0
	for range maxRegionProbe {
		if !a.IsValid() || !r.prefix.Contains(a) {
			return netip.Addr{}
		}
		for ci < len(r.children) && simulate.LastAddr(r.children[ci]).Less(a) {
			ci++
		}
		switch {
		case ci < len(r.children) && r.children[ci].Contains(a):
			a = simulate.LastAddr(r.children[ci]).Next()
		case avoid[a]:
			a = a.Next()
		default:
			return a
		}
	}
	return netip.Addr{}
}

// regionOf returns the index of the region whose addresses include a: the
// one with the longest prefix holding it; -1 when none does.
func regionOf(rs []region, a netip.Addr) int {
	best := -1
	for i := range rs {
		if rs[i].prefix.Contains(a) && (best < 0 || rs[i].prefix.Bits() > rs[best].prefix.Bits()) {
			best = i
		}
	}
	return best
}
