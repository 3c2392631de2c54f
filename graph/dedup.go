package graph

import (
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
// A connection is keyed by its 5-tuple and verdict. It is recent while it
// was last seen less than window ago, in flow time (measured back from the
// latest flow time seen so far); each sighting renews it, so a long-lived
// connection whose packets are never window apart counts once. Memory is
// bounded: a queue of at most limit sightings, oldest evicted first, so a
// connection is forgotten early only when more than limit sightings arrive
// within one window.
type dedup struct {
	window int64 // nanoseconds
	limit  int
	seen   map[connKey]connEntry
	queue  []sighting // oldest at head
	head   int
	latest int64
}

type connKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            netpol.Protocol
	verdict          netpol.FlowVerdict
}

// connEntry is a recent connection: when it was last seen, and the
// evidence it counted in (one port, or several for a Service whose
// backends belong to several workloads).
type connEntry struct {
	last  int64
	stats *PortStats
	more  []*PortStats
}

type sighting struct {
	key connKey
	at  int64
}

func newDedup(window time.Duration, limit int) *dedup {
	return &dedup{window: int64(window), limit: limit, seen: map[connKey]connEntry{}}
}

// check reports whether k at time t belongs to a connection seen within
// the window, renewing it; when it does, it returns that connection.
func (d *dedup) check(k connKey, t time.Time) (connEntry, bool) {
	at := t.UnixNano()
	if at > d.latest {
		d.latest = at
		d.expire()
	}
	e, ok := d.seen[k]
	if !ok || at-e.last >= d.window || e.last-at >= d.window {
		return connEntry{}, false
	}
	if at > e.last {
		e.last = at
		d.seen[k] = e
		d.push(k, at)
	}
	return e, true
}

// record remembers a counted connection and the evidence it counted in.
func (d *dedup) record(k connKey, t time.Time, e connEntry) {
	e.last = t.UnixNano()
	d.seen[k] = e
	d.push(k, e.last)
}

func (d *dedup) push(k connKey, at int64) {
	if len(d.queue)-d.head >= d.limit {
		d.pop()
	}
	if d.head > 0 && d.head >= len(d.queue)/2 && len(d.queue) == cap(d.queue) {
		n := copy(d.queue, d.queue[d.head:])
		clear(d.queue[n:])
		d.queue, d.head = d.queue[:n], 0
	}
	d.queue = append(d.queue, sighting{k, at})
}

// pop forgets the oldest sighting, and its connection unless renewed since.
func (d *dedup) pop() {
	s := d.queue[d.head]
	if e, ok := d.seen[s.key]; ok && e.last <= s.at {
		delete(d.seen, s.key)
	}
	d.queue[d.head] = sighting{}
	d.head++
}

// expire forgets the sightings older than the window before the latest.
func (d *dedup) expire() {
	cutoff := d.latest - d.window
	for d.head < len(d.queue) && d.queue[d.head].at < cutoff {
		d.pop()
	}
}

// len returns the number of connections remembered.
func (d *dedup) len() int { return len(d.seen) }
