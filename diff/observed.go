package diff

import (
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// observation is the observed traffic of one edge of a graph on one probe.
type observation struct {
	from, to graph.Node
	probe    netpol.Probe
	ev       Evidence
}

// observations lists the evidence of g per edge and probe, and counts the
// ports that no NetworkPolicy probe can stand for (ICMP, port 0).
func observations(g *graph.Graph) (obs []observation, skipped int) {
	if g == nil {
		return nil, 0
	}
	for _, e := range g.Edges() {
		byProbe := map[netpol.Probe]*Evidence{}
		var order []netpol.Probe
		add := func(ps []graph.PortStats, dropped bool) {
			for _, p := range ps {
				pr := netpol.Probe{Protocol: p.Protocol, Port: p.Port}
				if !pr.Valid() {
					skipped++
					continue
				}
				ev := byProbe[pr]
				if ev == nil {
					ev = &Evidence{}
					byProbe[pr] = ev
					order = append(order, pr)
				}
				if dropped {
					ev.Dropped += p.Count
				} else {
					ev.Forwarded += p.Count
				}
				if p.LastSeen.After(ev.LastSeen) {
					ev.LastSeen = p.LastSeen
				}
			}
		}
		add(e.Forwarded, false)
		add(e.Dropped, true)
		for _, pr := range order {
			obs = append(obs, observation{from: e.From, to: e.To, probe: pr, ev: *byProbe[pr]})
		}
	}
	return obs, skipped
}

// pairKey is a peer pair and probe.
type pairKey struct {
	from, to int32
	probe    netpol.Probe
}

// evidence maps the observations to peer pairs present on both sides,
// merging observations of one pair (two addresses of one external range),
// and counts those left out.
func (c *comparison) evidence(obs []observation) (map[pairKey]*Evidence, int) {
	out := map[pairKey]*Evidence{}
	left := 0
	for _, o := range obs {
		a, b := c.unitOf(o.from), c.unitOf(o.to)
		if a < 0 || b < 0 || !c.u.both(a) || !c.u.both(b) {
			left++
			continue
		}
		k := pairKey{a, b, o.probe}
		ev := out[k]
		if ev == nil {
			ev = &Evidence{}
			out[k] = ev
		}
		ev.Forwarded += o.ev.Forwarded
		ev.Dropped += o.ev.Dropped
		if o.ev.LastSeen.After(ev.LastSeen) {
			ev.LastSeen = o.ev.LastSeen
		}
	}
	return out, left
}

// unitOf returns the peer of an observed node: its workload, or the
// external range of its address; -1 for reserved identities and unknown
// workloads. A bare pod that is no peer (traffic learned without the
// manifests) is resolved again, by graph's pod-name patterns, against the
// base's workloads.
func (c *comparison) unitOf(n graph.Node) int32 {
	switch n.Kind {
	case graph.KindReserved:
		return -1
	case graph.KindExternal:
		r := regionOf(c.regions, n.Addr())
		if r < 0 {
			return -1
		}
		return c.regionUnit[r]
	}
	if u, ok := c.u.index[peerKey{n.Kind, n.Namespace, n.Name}]; ok {
		return u
	}
	if n.Kind == graph.KindPod { // learned without the manifests: try the base's workloads
		w := c.sides[0].resolver.Pod(n.Namespace, n.Name, nil, netpol.WorkloadRef{}, time.Time{})
		if u, ok := c.u.index[peerKey{w.Kind, w.Namespace, w.Name}]; ok && w != n {
			return u
		}
	}
	return -1
}
