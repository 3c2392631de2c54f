package diff

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/simulate"
)

// Options tune a comparison. The zero value compares every namespace,
// without observed traffic, with ipBlocks matching pod addresses.
type Options struct {
	// IPBlockIgnoresPods is simulate.Options.IPBlockIgnoresPods, for both
	// sides.
	IPBlockIgnoresPods bool
	// Observed is the traffic observed where the base runs (a learned
	// graph); nil for none. Its workloads are matched to the sides' by
	// kind, namespace and name, its external addresses to the ranges of
	// the policies.
	Observed *graph.Graph
	// Namespace limits the report to the changes with an end in this
	// namespace, and to what appears or disappears in it; "" is every
	// namespace.
	Namespace string
}

// comparison is the state of one Compare.
type comparison struct {
	opts        Options
	sides       [2]*side
	probes      []netpol.Probe
	regions     []region
	regionUnit  []int32 // region -> peer
	u           *units
	reasonCache map[reasonKey]int32
	reasonSets  [][]string
	// headPolicies caches the head's Engine.Policies.
	headPolicies []simulate.PolicyRef
}

// Compare compiles both snapshots and reports how connectivity differs
// from base to head. It fails only when a side does not compile (an
// invalid policy); the error says which side.
func Compare(base, head *netpol.Snapshot, o Options) (*Report, error) {
	obs, skipped := observations(o.Observed)
	c, err := newComparison(base, head, o, obs)
	if err != nil {
		return nil, err
	}
	return c.report(obs, skipped), nil
}

// newComparison compiles the sides with the external ranges as externals,
// chooses the probes and maps every endpoint to its peer.
func newComparison(base, head *netpol.Snapshot, o Options, obs []observation) (*comparison, error) {
	c := &comparison{opts: o, u: &units{index: map[peerKey]int32{}}, reasonCache: map[reasonKey]int32{}}
	snaps := []*netpol.Snapshot{base, head}
	c.regions = regions(snaps, reservedAddresses(base, head), observedV6(obs))
	reps := make([]netip.Addr, len(c.regions))
	regionPeer := map[netip.Addr]int32{}
	for i := range c.regions {
		r := &c.regions[i]
		reps[i] = r.rep
		u := c.u.unit(Peer{Kind: graph.KindExternal, Name: r.name(), Range: r.prefix})
		c.regionUnit = append(c.regionUnit, u)
		regionPeer[r.rep] = u
	}
	var engines [2]*simulate.Engine
	var errs [2]error
	both(func(s int) {
		engines[s], errs[s] = simulate.Compile(snaps[s], simulate.Options{IPBlockIgnoresPods: o.IPBlockIgnoresPods, Externals: reps})
	})
	for s, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", []string{"base", "head"}[s], err)
		}
	}
	c.probes = probesOf(engines, snaps, obs)
	both(func(s int) {
		c.sides[s] = &side{snap: snaps[s], eng: engines[s], m: engines[s].Matrix(engines[s].EndpointIDs(), c.probes)}
	})
	for s := range c.sides {
		c.u.addSide(s, c.sides[s], regionPeer)
	}
	return c, nil
}

// report assembles the changes, the observed evidence and the inventories.
func (c *comparison) report(obs []observation, skipped int) *Report {
	ev, left := c.evidence(obs)
	r := &Report{
		Probes: c.probes, Gained: []Change{}, Lost: []Change{}, Breakages: []Change{}, Openings: []Change{},
		Observed: c.opts.Observed != nil, Unevaluated: skipped + left,
	}
	raw := c.changes()
	gained := 0
	for _, rc := range raw {
		if rc.after > rc.before {
			gained++
		}
	}
	r.Gained, r.Lost = make([]Change, 0, gained), make([]Change, 0, len(raw)-gained)
	rank := c.ranks()
	slices.SortFunc(raw, func(x, y rawChange) int {
		return cmp.Or(cmp.Compare(rank[x.from], rank[y.from]), cmp.Compare(rank[x.to], rank[y.to]), cmp.Compare(x.probe, y.probe))
	})
	for _, rc := range raw {
		ch := Change{
			From: c.u.peers[rc.from], To: c.u.peers[rc.to], Probe: c.probes[rc.probe], Before: rc.before, After: rc.after,
			Reasons: c.reasonSets[rc.reasons], Observed: ev[pairKey{rc.from, rc.to, c.probes[rc.probe]}],
		}
		if ch.After > ch.Before {
			r.Gained = append(r.Gained, ch)
		} else {
			r.Lost = append(r.Lost, ch)
		}
	}
	if r.Observed {
		for _, ch := range r.Lost {
			if ch.Observed != nil && ch.Observed.Forwarded > 0 {
				r.Breakages = append(r.Breakages, ch)
			}
		}
		for _, ch := range r.Gained {
			if ch.Observed == nil {
				r.Openings = append(r.Openings, ch)
			}
		}
	}
	base, head := c.inventory(0), c.inventory(1)
	r.Appeared, r.Disappeared = head.minus(base), base.minus(head)
	return r
}

// ranks returns the rank of every peer in the order of comparePeers.
func (c *comparison) ranks() []int32 {
	order := make([]int32, len(c.u.peers))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return comparePeers(c.u.peers[a], c.u.peers[b]) })
	rank := make([]int32, len(order))
	for r, u := range order {
		rank[u] = int32(r)
	}
	return rank
}

// probesOf returns the probes that matter: the container ports of both
// sides, the numeric ports of both sides' policies, the observed ports.
func probesOf(engines [2]*simulate.Engine, snaps []*netpol.Snapshot, obs []observation) []netpol.Probe {
	set := probeSet{}
	for s := range engines {
		set.addEndpoints(engines[s].Endpoints())
		set.addPolicies(snaps[s].Policies)
	}
	for _, o := range obs {
		set.add(o.probe)
	}
	return set.sorted()
}

// reservedAddresses returns the addresses of the sides' pods and nodes,
// which an external range's representative must not take.
func reservedAddresses(snaps ...*netpol.Snapshot) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, s := range snaps {
		for i := range s.Pods {
			for _, ip := range netpol.PodIPs(&s.Pods[i]) {
				out[ip] = true
			}
		}
		for i := range s.Nodes {
			for _, ip := range netpol.NodeIPs(&s.Nodes[i]) {
				out[ip] = true
			}
		}
	}
	return out
}

// observedV6 reports whether some observed external address is IPv6.
func observedV6(obs []observation) bool {
	for _, o := range obs {
		for _, n := range []graph.Node{o.from, o.to} {
			if a := n.Addr(); a.IsValid() && a.Is6() {
				return true
			}
		}
	}
	return false
}

// both runs f for the base (0) and the head (1) at once.
func both(f func(side int)) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f(1)
	}()
	f(0)
	wg.Wait()
}
