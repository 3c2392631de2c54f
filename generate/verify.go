package generate

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/simulate"
)

// Check is the simulator's proof of a Result, or the connections at fault.
type Check struct {
	// Observed is the number of observed connections (an edge and a port)
	// checked, each on every pair of their endpoints.
	Observed int
	// Pairs is the number of ordered pairs of workloads checked for
	// connections that were not observed; Probes are the probes that stand
	// for every port in that check.
	Pairs  int
	Probes []netpol.Probe
	// Denied are observed connections that the policies deny: the first
	// guarantee fails.
	Denied []Fault
	// Unexpected are connections between workloads that were not observed
	// and that the generated policies allow: the second guarantee fails.
	Unexpected []Fault
	// Existing are connections that were not observed and that only the
	// policies already in the cluster allow: kept, as the cluster's owners
	// asked for them, and reported.
	Existing []Fault
	// Unchecked are observed connections the simulator cannot check: ICMP,
	// a peer with no address or no longer in the snapshot.
	Unchecked []Fault
	// Truncated counts the faults left out of the lists above, past
	// maxFaults each.
	Truncated int
	// Idle are the namespaces reported idle.
	Idle []string
}

// OK reports whether both guarantees hold.
func (c *Check) OK() bool { return len(c.Denied) == 0 && len(c.Unexpected) == 0 }

// Fault is one connection that breaks, or escapes, a guarantee.
type Fault struct {
	// From and To are the workloads or peers; Endpoints the endpoints the
	// simulator checked ("shop/cart-6c9f8d7b5-q4vns"), when it could.
	From, To                 string
	FromEndpoint, ToEndpoint string
	Probe                    netpol.Probe
	// Reason is why: the simulator's explanation of a denial, the rule
	// that allowed an unexpected connection, or why it was not checked.
	Reason string
}

// String renders f as "shop/web -> shop/cart TCP/8080
// (shop/web-5d8f7c9b4-2xkqp -> shop/cart-6c9f8d7b5-q4vns): reason", without
// the endpoints when the simulator had none.
func (f Fault) String() string {
	s := f.From + " -> " + f.To + " " + probeText(f.Probe)
	if f.FromEndpoint != "" {
		s += " (" + f.FromEndpoint + " -> " + f.ToEndpoint + ")"
	}
	return s + ": " + f.Reason
}

// maxFaults bounds each list of faults in a Check.
const maxFaults = 1000

// Verify runs the simulator over the result together with the policies of
// the snapshot (those the result replaces left out) and checks that every
// observed forwarded connection of g that concerns the result's namespaces
// is allowed, on every pair of endpoints of its two ends, and that no two
// workloads, one of them in a policed namespace, are connected on any port
// unless that connection was observed or is DNS to the cluster DNS of the
// result. Connections that only the snapshot's own policies allow are
// reported apart, in Existing.
func Verify(g *graph.Graph, s *netpol.Snapshot, r *Result) (*Check, error) {
	if g == nil || s == nil || r == nil {
		return nil, errors.New("verify: a graph, a snapshot and a result are required")
	}
	v := &verifier{r: r, inv: newInventory(s), c: &Check{}, scope: map[string]bool{}, policed: map[string]bool{}}
	v.edges = v.inv.edges(g)
	for _, ns := range r.Namespaces {
		v.scope[ns.Name] = true
		v.policed[ns.Name] = ns.Policed
		if ns.Idle {
			v.c.Idle = append(v.c.Idle, ns.Name)
		}
	}
	existing := existingPolicies(s, r)
	combined := *s
	combined.Policies = append(existing, r.Policies...)
	eng, err := simulate.Compile(&combined, simulate.Options{Externals: v.externals()})
	if err != nil {
		return nil, fmt.Errorf("compiling the generated policies with the cluster's: %w", err)
	}
	v.eng = eng
	generatedOnly := *s
	generatedOnly.Policies = r.Policies
	v.generatedOnly = func() (*simulate.Engine, error) { return simulate.Compile(&generatedOnly, simulate.Options{}) }
	if len(existing) == 0 {
		// eng holds the generated policies alone; its externals change no
		// verdict between the snapshot's endpoints, the only ones looked up.
		v.generatedOnly = func() (*simulate.Engine, error) { return eng, nil }
	}
	v.observed()
	if err := v.unobserved(combined.Policies); err != nil {
		return nil, err
	}
	v.c.sort()
	return v.c, nil
}

// existingPolicies returns the snapshot's policies that the result does
// not replace: a generated policy replaces the one of its namespace and
// name that netpol manages.
func existingPolicies(s *netpol.Snapshot, r *Result) []networkingv1.NetworkPolicy {
	mine := map[[2]string]bool{}
	for _, np := range r.Policies {
		mine[[2]string{np.Namespace, np.Name}] = true
	}
	var out []networkingv1.NetworkPolicy
	for _, np := range s.Policies {
		if mine[[2]string{np.Namespace, np.Name}] && np.Labels[ManagedByLabel] == ManagedByValue {
			continue
		}
		out = append(out, np)
	}
	return out
}

type verifier struct {
	edges         []graph.Edge // g's edges, Service addresses moved to backends
	r             *Result
	inv           *inventory
	eng           *simulate.Engine
	generatedOnly func() (*simulate.Engine, error)
	c             *Check
	scope         map[string]bool
	policed       map[string]bool
	// seen are the observed connections: from, to, probe; seenAddr those
	// of ends that act as nodes, by address.
	seen     map[seenKey]bool
	seenAddr map[addrKey]bool
}

type seenKey struct {
	from, to graph.Node
	probe    netpol.Probe
}

// externals returns the addresses that observed connections involve and
// that are no pod of the snapshot: externals, and the addresses standing
// for reserved identities.
func (v *verifier) externals() []netip.Addr {
	pods := map[netip.Addr]bool{}
	for _, ep := range v.inv.endpoints {
		if !ep.HostNetwork {
			for _, a := range ep.IPs {
				pods[a] = true
			}
		}
	}
	var out []netip.Addr
	for _, e := range v.edges {
		for _, a := range append(v.addrsFor(e.From, e, true), v.addrsFor(e.To, e, false)...) {
			if !pods[a] {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// addrsFor returns the addresses that stand for a node that is not a
// workload: an external's own; for a reserved identity, the addresses it
// was seen with and, for the API server, its endpoints' addresses, for the
// host and remote-node identities, every node's.
func (v *verifier) addrsFor(n graph.Node, e graph.Edge, source bool) []netip.Addr {
	if n.IsWorkload() {
		return nil
	}
	if a := n.Addr(); a.IsValid() {
		return []netip.Addr{a}
	}
	// As the generator reads them (see peerFor).
	out := append(sampleAddrs(e, source), v.inv.reservedAddrs(n)...)
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// endpointsOf returns the engine's endpoints standing for n, or why there
// are none; addrs are n's addresses in the edge (see addrsFor).
func (v *verifier) endpointsOf(n graph.Node, addrs []netip.Addr) ([]simulate.EndpointID, string) {
	if n.IsWorkload() {
		w := v.inv.workloads[n]
		if w == nil {
			return nil, display(n) + " is not in the snapshot"
		}
		var out []simulate.EndpointID
		for _, i := range w.endpoints {
			if ep := v.inv.endpoints[i]; ep.HostNetwork && len(ep.IPs) == 0 {
				continue // on the host network, with no node yet: no address
			}
			if id, ok := v.eng.Lookup(v.inv.endpoints[i].ID()); ok {
				out = append(out, id)
			}
		}
		if len(out) == 0 {
			return nil, display(n) + " runs on the host network and has no pod: its address is not known"
		}
		return out, ""
	}
	var out []simulate.EndpointID
	for _, a := range addrs {
		if id, ok := v.eng.Lookup(a.String()); ok {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, display(n) + " has no known address"
	}
	return out, ""
}

// observed checks the first guarantee: every observed forwarded
// connection concerning the result's namespaces is allowed.
func (v *verifier) observed() {
	v.seen, v.seenAddr = map[seenKey]bool{}, map[addrKey]bool{}
	for _, e := range v.edges {
		if len(e.Forwarded) == 0 || !v.scope[e.From.Namespace] && !v.scope[e.To.Namespace] {
			continue
		}
		fromAddrs, toAddrs := v.addrsFor(e.From, e, true), v.addrsFor(e.To, e, false)
		for _, ps := range e.Forwarded {
			probe := netpol.Probe{Protocol: ps.Protocol, Port: ps.Port}
			v.seen[seenKey{e.From, e.To, probe}] = true
			v.indexAddrs(e, probe, fromAddrs, toAddrs)
		}
		srcs, why := v.endpointsOf(e.From, fromAddrs)
		dsts, why2 := v.endpointsOf(e.To, toAddrs)
		for _, ps := range e.Forwarded {
			probe := netpol.Probe{Protocol: ps.Protocol, Port: ps.Port}
			f := Fault{From: display(e.From), To: display(e.To), Probe: probe}
			switch {
			case !probe.Valid():
				f.Reason = probeText(probe) + " cannot be written as a NetworkPolicy"
			case why != "" || why2 != "":
				f.Reason = cmp.Or(why, why2)
			}
			if f.Reason != "" {
				v.c.add(&v.c.Unchecked, f)
				continue
			}
			v.c.Observed++
			v.checkAllowed(f, srcs, dsts)
		}
	}
}

// checkAllowed records a Denied fault for the first pair of srcs and dsts
// that the policies deny f's probe.
func (v *verifier) checkAllowed(f Fault, srcs, dsts []simulate.EndpointID) {
	for _, s := range srcs {
		for _, d := range dsts {
			if s == d || v.eng.Evaluate(s, d, f.Probe).Verdict == simulate.Allowed {
				continue
			}
			x := v.eng.Explain(s, d, f.Probe)
			f.FromEndpoint, f.ToEndpoint = x.From.ID(), x.To.ID()
			for _, t := range []simulate.DirectionTrace{x.Egress, x.Ingress} {
				if t.Decision.Verdict == simulate.Denied {
					f.Reason = cmp.Or(f.Reason, t.Direction.String()+" of "+t.Subject+": "+t.Summary)
				}
			}
			v.c.add(&v.c.Denied, f)
			return
		}
	}
}

func (c *Check) add(list *[]Fault, f Fault) {
	if len(*list) >= maxFaults {
		c.Truncated++
		return
	}
	*list = append(*list, f)
}

func (c *Check) sort() {
	for _, l := range [][]Fault{c.Denied, c.Unexpected, c.Existing, c.Unchecked} {
		slices.SortFunc(l, func(a, b Fault) int {
			return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), a.Probe.Compare(b.Probe))
		})
	}
	slices.Sort(c.Idle)
}
