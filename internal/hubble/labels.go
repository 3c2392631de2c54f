package hubble

import (
	"hash/maphash"
	"slices"
	"strings"
	"unsafe"

	"github.com/netpol/netpol"
)

// labelSet is what a Cilium label list says about an endpoint.
type labelSet struct {
	// labels are the pod's own Kubernetes labels, nil when there are none.
	labels map[string]string
	// reserved is the reserved identity named by reserved:* labels.
	reserved netpol.Reserved
	// namespace is the value of io.kubernetes.pod.namespace.
	namespace string
}

// parseLabels reads Cilium labels ("source:key=value").
//
// Only the "k8s" source is kept, and only the pod's own labels: the keys
// Cilium adds to every identity (io.kubernetes.pod.namespace and the
// io.cilium.k8s.* family: policy.cluster, policy.serviceaccount,
// namespace.labels.*) are kept out, so that Labels is what a podSelector
// can match. The namespace label fills namespace instead.
//
// "reserved" labels name the reserved identity: kube-apiserver wins over
// host, remote-node and world (world-ipv4 and world-ipv6 are world); other
// reserved names (health, init, ingress, unmanaged) are passed through.
// Other sources (cidr, fqdn, container, unspec) are ignored.
func parseLabels(ls []string) labelSet {
	var out labelSet
	for _, l := range ls {
		source, kv, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch source {
		case "k8s":
			k, v, _ := strings.Cut(kv, "=")
			switch {
			case k == "io.kubernetes.pod.namespace":
				out.namespace = v
			case strings.HasPrefix(k, "io.cilium.k8s."):
			default:
				if out.labels == nil {
					out.labels = make(map[string]string, len(ls))
				}
				out.labels[k] = v
			}
		case "reserved":
			out.reserved = strongerReserved(out.reserved, reservedName(kv))
		}
	}
	return out
}

// reservedName maps the key of a reserved label.
func reservedName(k string) netpol.Reserved {
	k, _, _ = strings.Cut(k, "=")
	switch k {
	case "world-ipv4", "world-ipv6":
		return netpol.ReservedWorld
	}
	return netpol.Reserved(k)
}

// reservedRank orders reserved identities when an endpoint has several.
func reservedRank(r netpol.Reserved) int {
	switch r {
	case netpol.ReservedNone:
		return 0
	case netpol.ReservedKubeAPIServer:
		return 5
	case netpol.ReservedHost:
		return 4
	case netpol.ReservedRemoteNode:
		return 3
	case netpol.ReservedWorld:
		return 2
	}
	return 1
}

// strongerReserved returns the higher-ranked of a and b (a on ties).
func strongerReserved(a, b netpol.Reserved) netpol.Reserved {
	if reservedRank(b) > reservedRank(a) {
		return b
	}
	return a
}

// labelCache remembers parsed label lists, so that the many flows of one
// identity share one read-only map and parse it once. It is bounded: when
// full it starts over.
//
// Lists are found by content (a hash), and first by the identity of their
// backing array: the fast decoder hands over the same immutable slices
// again and again. A list is remembered as given, not copied, so callers
// must not modify a slice after passing it (decoded messages are not).
type labelCache struct {
	seed    maphash.Seed
	entries map[uint64][]labelEntry
	// byData maps the backing array of each remembered list to its entry.
	// The keys keep the arrays alive, so an address is never reused while
	// it is in the map.
	byData map[*string]labelEntry
}

type labelEntry struct {
	raw []string
	set labelSet
}

// labelCacheSize bounds the number of distinct label lists remembered.
const labelCacheSize = 1 << 14

// get returns the parsed form of ls.
func (c *labelCache) get(ls []string) labelSet {
	if len(ls) == 0 {
		return labelSet{}
	}
	data := unsafe.SliceData(ls)
	if e, ok := c.byData[data]; ok && len(e.raw) == len(ls) {
		return e.set
	}
	if c.entries == nil || len(c.byData) >= labelCacheSize {
		if c.entries == nil {
			c.seed = maphash.MakeSeed()
		}
		c.entries = make(map[uint64][]labelEntry)
		c.byData = make(map[*string]labelEntry)
	}
	var h maphash.Hash
	h.SetSeed(c.seed)
	for _, l := range ls {
		h.WriteString(l)
		h.WriteByte(0)
	}
	sum := h.Sum64()
	for _, e := range c.entries[sum] {
		if slices.Equal(e.raw, ls) {
			return e.set
		}
	}
	e := labelEntry{raw: ls, set: parseLabels(ls)}
	c.entries[sum] = append(c.entries[sum], e)
	c.byData[data] = e
	return e.set
}
