package graph

import (
	"net/netip"
	"strings"
	"time"

	"github.com/netpol/netpol"
)

// Options tune a Builder. The zero value takes the defaults.
type Options struct {
	// DedupWindow is how long a connection stays recent: a flow with the
	// 5-tuple and verdict of a connection seen less than DedupWindow before
	// (in flow time) counts nothing more. Default 2s.
	DedupWindow time.Duration
	// DedupLimit is the number of connections remembered for
	// deduplication (a fixed table, 48 bytes a connection, allocated on
	// the first flow). Default 1<<18 (12 MB).
	DedupLimit int
	// PendingLimit bounds the distinct edges waiting for an endpoint to
	// resolve; flows beyond it count as unresolved. Default 1<<16.
	PendingLimit int
}

func (o Options) withDefaults() Options {
	if o.DedupWindow <= 0 {
		o.DedupWindow = 2 * time.Second
	}
	if o.DedupLimit <= 0 {
		o.DedupLimit = 1 << 18
	}
	if o.PendingLimit <= 0 {
		o.PendingLimit = 1 << 16
	}
	return o
}

// Stats counts what a Builder did with the flows it was given.
type Stats struct {
	// Flows is the number of flows added.
	Flows int64
	// Counted is the number of connections counted (pending ones included).
	Counted int64
	// Duplicates counts flows of a connection already counted: more packets
	// of it, or its observation at the other end.
	Duplicates int64
	// Replies counts reply flows, which are ignored.
	Replies int64
	// NoProtocol counts flows without a transport protocol the graph knows
	// (no TCP, UDP, SCTP or ICMP layer), which are not connections and are
	// left out.
	NoProtocol int64
	// Unresolved counts flows left out because an endpoint had nothing to
	// resolve, or because too many edges were pending.
	Unresolved int64
	// Pending is the number of connections whose endpoint is a cluster
	// endpoint not resolved yet; they join the graph once it resolves.
	Pending int64
	// Evicted counts connections forgotten by deduplication while still
	// recent, for lack of room (see Options.DedupLimit); their next packet
	// counted them again.
	Evicted int64
}

// Builder ingests flows into a Graph. It counts a connection once: replies
// are ignored, the source port is dropped (the edge key is source node,
// destination node, protocol and destination port), and a connection seen
// again within the dedup window, at the same end or the other, counts
// nothing more. Dropped flows count apart from the others. Its memory grows
// with distinct edges, pods and addresses, not with flows. The zero Builder
// is not usable; call NewBuilder. A Builder is not safe for concurrent use.
type Builder struct {
	r          *Resolver
	g          *Graph
	dd         *dedup
	opts       Options
	pending    map[pendingKey]*PortStats
	stats      Stats
	span       Window
	namespaces map[string]bool
}

// side is one end of a pending edge: a node, or what is known of an
// endpoint that has not resolved yet (node is then zero).
type side struct {
	node     Node
	ip       netip.Addr
	identity uint32
	ns       string
}

type pendingKey struct {
	src, dst side
	proto    netpol.Protocol
	port     uint16
	dropped  bool
}

// NewBuilder returns a builder that resolves endpoints with r and adds
// evidence to g (New() when nil).
func NewBuilder(r *Resolver, g *Graph, o Options) *Builder {
	if g == nil {
		g = New()
	}
	o = o.withDefaults()
	return &Builder{
		r: r, g: g, opts: o, dd: newDedup(o.DedupWindow, o.DedupLimit),
		pending: map[pendingKey]*PortStats{}, namespaces: map[string]bool{},
	}
}

// ephemeralMin is the start of the ephemeral port range: Linux draws
// client ports from 32768 up, IANA from 49152 up.
const ephemeralMin = 32768

// IsReply reports whether f is a reply: as the source said, or, when it
// did not know, when the packet goes from a port below the ephemeral range
// (a listening port) to one within it (a client's port).
func IsReply(f *netpol.Flow) bool {
	switch f.Reply {
	case netpol.Yes:
		return true
	case netpol.No:
		return false
	}
	return f.Protocol != netpol.ProtocolICMP && f.Source.Port != 0 &&
		f.Source.Port < ephemeralMin && f.Destination.Port >= ephemeralMin
}

// Add ingests one flow. It keeps nothing of f but copies of its strings.
// The DNS answers a flow carries (a DNS response, or the names Hubble
// gives a destination) are recorded as names of their addresses, whether
// or not the flow is a reply; dropped flows give no names.
func (b *Builder) Add(f *netpol.Flow) {
	b.stats.Flows++
	if !f.Time.IsZero() {
		b.span = b.span.Widen(Window{f.Time, f.Time})
	}
	if f.DNS != nil && f.Verdict != netpol.Dropped {
		for _, a := range f.DNS.Answers {
			b.g.AddName(a, f.DNS.Query)
		}
	}
	if IsReply(f) {
		b.stats.Replies++
		return
	}
	if f.Protocol == netpol.ProtocolUnknown {
		b.stats.NoProtocol++
		return
	}
	port := f.Destination.Port
	if f.Protocol == netpol.ProtocolICMP {
		port = 0
	}
	key := connKey{f.Source.IP, f.Destination.IP, f.Source.Port, port, f.Protocol, f.Verdict}
	if e, ok := b.dd.check(&key, f.Time); ok {
		b.stats.Duplicates++
		t := utc(f.Time)
		e.stats.seen(t)
		for _, p := range e.more {
			p.seen(t)
		}
		return
	}
	e, ok := b.count(f, port)
	if !ok {
		b.stats.Unresolved++
		return
	}
	b.stats.Counted++
	b.dd.record(&key, f.Time, e)
}

// count resolves f's endpoints and counts it on its edges (or pending
// edges), returning the evidence it counted in.
func (b *Builder) count(f *netpol.Flow, port uint16) (connEntry, bool) {
	src, so := b.r.Endpoint(&f.Source, f.Node, f.Time)
	if so == Unresolvable {
		return connEntry{}, false
	}
	b.r.Learn(&f.Source, src)
	dropped := f.Verdict == netpol.Dropped
	var e connEntry
	// A ClusterIP of the snapshot wins over "world", which is what Cilium
	// calls an address it does not know.
	if r := f.Destination.Reserved; f.Destination.Pod == "" && (r == netpol.ReservedNone || r == netpol.ReservedWorld) {
		if ts, ok := b.r.Service(f.Destination.IP, f.Protocol, port, f.Time); ok && len(ts) > 0 {
			for i, t := range ts {
				p := b.evidence(f, b.side(src, &f.Source), side{node: t.Node}, t.Port, dropped)
				if p == nil {
					return connEntry{}, false
				}
				if i == 0 {
					e.stats = p
				} else {
					e.more = append(e.more, p)
				}
			}
			return e, true
		}
	}
	dst, do := b.r.Endpoint(&f.Destination, f.Node, f.Time)
	if do == Unresolvable {
		return connEntry{}, false
	}
	b.r.Learn(&f.Destination, dst)
	e.stats = b.evidence(f, b.side(src, &f.Source), b.side(dst, &f.Destination), port, dropped)
	return e, e.stats != nil
}

// side returns the pending-edge side of an endpoint resolved to n (zero
// when pending), noting its namespace.
func (b *Builder) side(n Node, ep *netpol.FlowEndpoint) side {
	ns := n.Namespace
	if n == (Node{}) {
		ns = ep.Namespace
	}
	if ns != "" && !b.namespaces[ns] {
		b.namespaces[strings.Clone(ns)] = true
	}
	if n != (Node{}) {
		return side{node: n}
	}
	return side{ip: ep.IP.Unmap().WithZone(""), identity: ep.Identity, ns: strings.Clone(ep.Namespace)}
}

// evidence counts f once on the edge between src and dst (pending when
// either is), and returns that edge's evidence; nil when too many edges
// are pending.
func (b *Builder) evidence(f *netpol.Flow, src, dst side, port uint16, dropped bool) *PortStats {
	var p *PortStats
	if src.node != (Node{}) && dst.node != (Node{}) {
		p = b.g.stats(portKey{b.g.node(src.node), b.g.node(dst.node), f.Protocol, port, dropped})
	} else {
		k := pendingKey{src, dst, f.Protocol, port, dropped}
		if p = b.pending[k]; p == nil {
			if len(b.pending) >= b.opts.PendingLimit {
				return nil
			}
			p = &PortStats{Protocol: f.Protocol, Port: port}
			b.pending[k] = p
		}
	}
	p.Count++
	p.seen(utc(f.Time))
	if p.Sample.IsZero() || !f.Time.After(p.Sample.Time) {
		if s := sampleOf(f); compareSample(s, p.Sample) < 0 {
			p.Sample = s
		}
	}
	return p
}

func sampleOf(f *netpol.Flow) Sample {
	ep := func(e *netpol.FlowEndpoint) SampleEndpoint {
		return SampleEndpoint{IP: e.IP.Unmap().WithZone(""), Port: e.Port,
			Namespace: strings.Clone(e.Namespace), Pod: strings.Clone(e.Pod)}
	}
	return Sample{Time: utc(f.Time), Source: ep(&f.Source), Destination: ep(&f.Destination),
		Verdict: f.Verdict, Node: strings.Clone(f.Node)}
}

// Observe declares namespaces observed during the builder's run even if
// no flow of theirs is seen (the namespaces a Hubble filter selected): Graph
// records the run's window for them.
func (b *Builder) Observe(namespaces ...string) {
	for _, ns := range namespaces {
		if ns != "" {
			b.namespaces[ns] = true
		}
	}
}

// Graph resolves the pending edges it can, widens the learning window of
// every namespace seen or observed with the span of the flows added so far,
// and returns the builder's graph. The graph stays the builder's: later
// calls to Add change it.
func (b *Builder) Graph() *Graph {
	b.resolvePending()
	for ns := range b.namespaces {
		b.g.Observe(ns, b.span)
	}
	return b.g
}

func (b *Builder) resolvePending() {
	for k, p := range b.pending {
		src, ok1 := b.resolveSide(k.src)
		dst, ok2 := b.resolveSide(k.dst)
		if !ok1 || !ok2 {
			continue
		}
		delete(b.pending, k)
		pk := portKey{b.g.node(src), b.g.node(dst), k.proto, k.port, k.dropped}
		if q, ok := b.g.ports[pk]; ok {
			q.merge(p)
		} else {
			b.g.ports[pk] = p
			b.g.pairs[pair{pk.from, pk.to}]++
		}
	}
}

func (b *Builder) resolveSide(s side) (Node, bool) {
	if s.node != (Node{}) {
		return s.node, true
	}
	return b.r.Learned(s.ip, s.identity)
}

// Stats returns what the builder did so far.
func (b *Builder) Stats() Stats {
	s := b.stats
	s.Evicted = b.dd.evicted
	for _, p := range b.pending {
		s.Pending += p.Count
	}
	return s
}
