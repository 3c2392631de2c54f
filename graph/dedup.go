package graph

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"time"

	"github.com/netpol/netpol"
)

// dedup remembers the connections seen recently, so that a connection
// counts once however many of its packets are reported, and whether it is
// observed at one end or both (Hubble reports a flow at the source node's
// egress and again at the destination node's ingress, a few milliseconds
// apart on the two nodes' clocks).
//
// A connection is its 5-tuple and verdict, remembered by a 64-bit hash of
// them. It is recent while it was last seen less than window ago, in flow
// time (measured back from the latest flow time seen so far); each sighting
// renews it, so a long-lived connection whose packets are never window
// apart counts once.
//
// Memory is fixed: a set-associative table of 4-way buckets, allocated on
// first use. A new connection takes an empty or expired slot of its
// bucket, else evicts the one seen longest ago; an evicted connection still
// recent counts again at its next packet (counted in evicted). Evictions
// start when the connections seen within one window fill about half the
// table: with the default size (1<<18) and window (2 s), from some 60,000
// new connections a second.
type dedup struct {
	window  int64 // nanoseconds
	size    int   // slots
	buckets [][ways]slot
	mask    uint64
	latest  int64
	evicted int64
}

const ways = 4

type connKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            netpol.Protocol
	verdict          netpol.FlowVerdict
}

// connEntry is a recent connection's evidence: one port, or several for a
// Service whose backends belong to several workloads.
type connEntry struct {
	stats *PortStats
	more  []*PortStats
}

type slot struct {
	hash uint64
	last int64
	connEntry
}

func newDedup(window time.Duration, limit int) *dedup {
	return &dedup{window: int64(window), size: limit}
}

// hash mixes the key's fields (splitmix64 finalizer per word).
func (k *connKey) hash() uint64 {
	a, b := k.src.As16(), k.dst.As16()
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range [...]uint64{
		binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:]),
		binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]),
		uint64(k.srcPort)<<32 | uint64(k.dstPort)<<16 | uint64(k.proto)<<8 | uint64(k.verdict),
	} {
		h = mix(h ^ w)
	}
	return h
}

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (d *dedup) bucket(h uint64) *[ways]slot {
	if d.buckets == nil {
		n := 1 << bits.Len(uint((d.size+ways-1)/ways-1))
		d.buckets, d.mask = make([][ways]slot, n), uint64(n-1)
	}
	return &d.buckets[h&d.mask]
}

// check reports whether k at time t belongs to a connection seen within
// the window, renewing it; when it does, it returns that connection.
func (d *dedup) check(k *connKey, t time.Time) (connEntry, bool) {
	at := t.UnixNano()
	if at > d.latest {
		d.latest = at
	}
	h := k.hash()
	b := d.bucket(h)
	for i := range b {
		s := &b[i]
		if s.stats == nil || s.hash != h {
			continue
		}
		if at-s.last >= d.window || s.last-at >= d.window {
			return connEntry{}, false
		}
		s.last = max(s.last, at)
		return s.connEntry, true
	}
	return connEntry{}, false
}

// record remembers a counted connection and the evidence it counted in.
func (d *dedup) record(k *connKey, t time.Time, e connEntry) {
	at, h := t.UnixNano(), k.hash()
	b := d.bucket(h)
	victim := &b[0]
	for i := range b {
		s := &b[i]
		if s.stats == nil || s.hash == h {
			victim = s
			break
		}
		if s.last < victim.last {
			victim = s
		}
	}
	if victim.stats != nil && victim.hash != h && d.latest-victim.last < d.window {
		d.evicted++
	}
	*victim = slot{hash: h, last: at, connEntry: e}
}
