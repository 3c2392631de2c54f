package conntrack

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/netpol/netpol"
)

// IP protocol numbers of the conntrack table.
const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoGRE     = 47
	protoICMPv6  = 58
	protoSCTP    = 132
	protoUDPLite = 136
)

// tuple is one direction of a tracked connection.
type tuple struct {
	src, dst netip.AddrPort
}

// entry is one tracked connection, as read from netlink or a dump line.
type entry struct {
	proto uint8 // IP protocol number
	orig  tuple // initiator -> responder, as the initiator sent it
	reply tuple // responder -> initiator, as the responder sends it
	zone  uint16
	id    uint32    // conntrack ID; 0 when unknown
	start time.Time // creation time; zero when the kernel keeps none
}

// entryKey identifies a connection across dumps. Two live connections never
// share it: the original tuple and zone are unique in the table, and the ID
// and start time (when known) tell a reused tuple from the old one.
type entryKey struct {
	proto uint8
	orig  tuple
	zone  uint16
	id    uint32
	start int64
}

// key returns the identity of e across dumps.
func (e *entry) key() entryKey {
	k := entryKey{proto: e.proto, orig: e.orig, zone: e.zone, id: e.id}
	if !e.start.IsZero() {
		k.start = e.start.UnixNano()
	}
	return k
}

// protocol returns the flow protocol of e, or the Skipped kind of a
// connection that is not a flow.
func (e *entry) protocol() (netpol.Protocol, string) {
	switch e.proto {
	case protoTCP:
		return netpol.ProtocolTCP, ""
	case protoUDP:
		return netpol.ProtocolUDP, ""
	case protoSCTP:
		return netpol.ProtocolSCTP, ""
	}
	return netpol.ProtocolUnknown, protoName(e.proto)
}

// protoName names an IP protocol as conntrack prints it ("proto-N" for one
// it has no name for).
func protoName(p uint8) string {
	switch p {
	case protoICMP:
		return "icmp"
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoDCCP:
		return "dccp"
	case protoGRE:
		return "gre"
	case protoICMPv6:
		return "icmpv6"
	case protoSCTP:
		return "sctp"
	case protoUDPLite:
		return "udplite"
	}
	return "proto-" + strconv.Itoa(int(p))
}

// destination returns the responder: the reply tuple's source when it
// differs from the original destination (a DNAT took place, so the backend
// that answered), else the original destination.
func (e *entry) destination() netip.AddrPort {
	if e.reply.src.IsValid() && e.reply.src != e.orig.dst {
		return e.reply.src
	}
	return e.orig.dst
}

// toFlow fills f with the original direction of e. dumped is the time of the
// dump, used when e has no start time.
func (e *entry) toFlow(f *netpol.Flow, p netpol.Protocol, dumped time.Time, node string) {
	t := e.start
	if t.IsZero() {
		t = dumped
	}
	dst := e.destination()
	*f = netpol.Flow{
		Time:        t,
		Source:      netpol.FlowEndpoint{IP: e.orig.src.Addr().Unmap(), Port: e.orig.src.Port()},
		Destination: netpol.FlowEndpoint{IP: dst.Addr().Unmap(), Port: dst.Port()},
		Protocol:    p,
		Verdict:     netpol.Forwarded,
		Reply:       netpol.No,
		Node:        node,
	}
}

// tracker remembers the connections of the last dumps so that each is
// emitted once. Entries absent from a complete dump are forgotten.
type tracker struct {
	seen map[entryKey]uint64 // key -> generation last seen
	gen  uint64
}

// newTracker returns an empty tracker.
func newTracker() *tracker { return &tracker{seen: map[entryKey]uint64{}, gen: 1} }

// observe marks k as present in the current dump and reports whether it is
// new.
func (t *tracker) observe(k entryKey) bool {
	_, old := t.seen[k]
	t.seen[k] = t.gen
	return !old
}

// sweep ends the current dump: connections it did not hold are forgotten.
func (t *tracker) sweep() {
	for k, g := range t.seen {
		if g != t.gen {
			delete(t.seen, k)
		}
	}
	t.gen++
}

// connFlows is the per-connection step shared by the live and the file
// source: each connection is tracked first, so that it is handled once;
// a TCP, UDP or SCTP connection then becomes a flow, another protocol is
// counted in Skipped under its name.
type connFlows struct {
	tr    *tracker
	stats *counter
	node  string // copied into Flow.Node
	// repeat, when not empty, is the Skipped kind counting a connection
	// seen again; when empty, repeats are dropped silently.
	repeat string
	emit   func(*netpol.Flow) error
	flow   netpol.Flow // scratch, passed to emit
}

// entry handles one connection of a dump taken at time dumped (the time
// of a flow without a start time) and returns emit's error.
func (c *connFlows) entry(e *entry, dumped time.Time) error {
	if !c.tr.observe(e.key()) {
		if c.repeat != "" {
			c.stats.skip(c.repeat)
		}
		return nil
	}
	p, skip := e.protocol()
	if skip != "" {
		c.stats.skip(skip)
		return nil
	}
	e.toFlow(&c.flow, p, dumped, c.node)
	c.stats.flow()
	return c.emit(&c.flow)
}
