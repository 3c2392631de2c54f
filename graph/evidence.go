package graph

import (
	"cmp"
	"math"
	"net/netip"
	"time"

	"github.com/netpol/netpol"
)

// SampleEndpoint is one side of a sample flow, as the source reported it.
type SampleEndpoint struct {
	IP        netip.Addr
	Port      uint16
	Namespace string
	Pod       string
}

// Sample is one flow kept as evidence for a port of an edge: the earliest
// one seen. The zero Sample means no sample.
type Sample struct {
	Time        time.Time
	Source      SampleEndpoint
	Destination SampleEndpoint
	Verdict     netpol.FlowVerdict
	// Node is the node that observed the flow, where known.
	Node string
}

// IsZero reports whether s is the zero Sample.
func (s Sample) IsZero() bool { return s == Sample{} }

// compareSample is a total order on samples: earliest first, the zero
// Sample last, ties broken on every other field so that the choice of a
// sample never depends on the order of observations.
func compareSample(a, b Sample) int {
	if a.IsZero() != b.IsZero() {
		if a.IsZero() {
			return 1
		}
		return -1
	}
	return cmp.Or(
		a.Time.Compare(b.Time),
		cmp.Compare(a.Node, b.Node),
		cmp.Compare(a.Verdict, b.Verdict),
		compareSampleEndpoint(a.Source, b.Source),
		compareSampleEndpoint(a.Destination, b.Destination),
	)
}

func compareSampleEndpoint(a, b SampleEndpoint) int {
	return cmp.Or(a.IP.Compare(b.IP), cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Pod, b.Pod))
}

// PortStats is the evidence of one protocol and destination port on an
// edge: how many connections were counted, when the first and the last were
// seen, and a sample flow. A PortStats with Count 0 carries no evidence.
type PortStats struct {
	Protocol  netpol.Protocol
	Port      uint16
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
	Sample    Sample
}

// merge adds o's evidence to p: counts add, the window widens, and the
// earlier sample wins. It is associative and commutative; counts
// saturate at math.MaxInt64.
func (p *PortStats) merge(o *PortStats) {
	if o.Count == 0 {
		return
	}
	if p.Count == 0 {
		*p = *o
		return
	}
	if p.Count > math.MaxInt64-o.Count {
		p.Count = math.MaxInt64 // saturate: still associative for counts >= 0
	} else {
		p.Count += o.Count
	}
	if o.FirstSeen.Before(p.FirstSeen) {
		p.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(p.LastSeen) {
		p.LastSeen = o.LastSeen
	}
	if compareSample(o.Sample, p.Sample) < 0 {
		p.Sample = o.Sample
	}
}

// seen widens p's window to include t.
func (p *PortStats) seen(t time.Time) {
	if p.FirstSeen.IsZero() || t.Before(p.FirstSeen) {
		p.FirstSeen = t
	}
	if t.After(p.LastSeen) {
		p.LastSeen = t
	}
}

func comparePort(a, b PortStats) int {
	return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Port, b.Port))
}

// Window is a span of time during which a namespace was observed. The zero
// Window is no observation.
type Window struct {
	First, Last time.Time
}

// IsZero reports whether w is no observation.
func (w Window) IsZero() bool { return w.First.IsZero() && w.Last.IsZero() }

// Widen returns the smallest window that holds both w and o.
func (w Window) Widen(o Window) Window {
	if w.IsZero() {
		return o
	}
	if o.IsZero() {
		return w
	}
	if o.First.Before(w.First) {
		w.First = o.First
	}
	if o.Last.After(w.Last) {
		w.Last = o.Last
	}
	return w
}
