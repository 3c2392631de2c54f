package simulate

import (
	"sync"

	"github.com/netpol/netpol"
)

// Matrix is the connectivity between a set of endpoints for a set of probes.
// It is computed per class of endpoints, so its cost grows with the number of
// classes, not of endpoints.
type Matrix struct {
	engine    *Engine
	endpoints []EndpointID
	probes    []netpol.Probe
	local     []int32 // endpoint index -> local class
	n         int
	allowed   []bitset // per probe, n*n bits: source class * n + destination class
	pairsOnce sync.Once
	pairIdx   *pairIndex // built by pairs on first use
}

// Endpoints returns the endpoints of the matrix, in the order given.
func (m *Matrix) Endpoints() []EndpointID { return m.endpoints }

// Probes returns the probes of the matrix, in the order given.
func (m *Matrix) Probes() []netpol.Probe { return m.probes }

// Classes returns the number of endpoint classes the matrix was computed on.
func (m *Matrix) Classes() int { return m.n }

// Class returns the class of endpoint i (an index into Endpoints) within the
// matrix, from 0 to Classes()-1. Two endpoints of one class get the same
// verdicts from and towards every endpoint, except the verdicts between an
// endpoint and itself and those between a pod and the node it runs on (a
// hostNetwork pod on that node, an external at the node's address).
func (m *Matrix) Class(i int) int { return int(m.local[i]) }

// Allowed reports whether endpoint i may connect to endpoint j with probe
// k (indexes into Endpoints and Probes). An endpoint may always reach itself.
func (m *Matrix) Allowed(i, j, k int) bool {
	if m.endpoints[i] == m.endpoints[j] || m.allowed[k].has(int(m.local[i])*m.n+int(m.local[j])) {
		return true
	}
	toPod, fromPod := m.engine.residentPair(m.endpoints[i], m.endpoints[j])
	return toPod || fromPod
}

// Matrix computes the verdict of every ordered pair of eps for every probe.
// It agrees with Evaluate on every pair.
func (e *Engine) Matrix(eps []EndpointID, probes []netpol.Probe) *Matrix {
	m := &Matrix{engine: e, endpoints: eps, probes: probes, local: make([]int32, len(eps))}
	localOf := map[int32]int32{}
	var cls []*class
	for i, id := range eps {
		c := e.classOf[id]
		l, ok := localOf[c]
		if !ok {
			l = int32(len(cls))
			localOf[c] = l
			cls = append(cls, &e.classes[c])
		}
		m.local[i] = l
	}
	m.n = len(cls)
	mc := newMatrixCompute(e, cls)
	for _, p := range probes {
		m.allowed = append(m.allowed, mc.probe(p))
	}
	return m
}

// matrixCompute holds the per-matrix sets shared by all probes.
type matrixCompute struct {
	e         *Engine
	cls       []*class
	n         int
	all       bitset
	peerSets  []bitset // per peer: local classes it matches
	namedSets map[namedKey]bitset
	in, eg    []bitset
	tmp       bitset // scratch: one egress rule's destinations
	named     bitset // scratch: the destinations of a rule's named ports
}

type namedKey struct {
	name  string
	probe netpol.Probe
}

func newMatrixCompute(e *Engine, cls []*class) *matrixCompute {
	n := len(cls)
	mc := &matrixCompute{e: e, cls: cls, n: n, all: newBitset(n), namedSets: map[namedKey]bitset{},
		tmp: newBitset(n), named: newBitset(n)}
	mc.all.fill(n)
	mc.peerSets = make([]bitset, len(e.peers))
	for i := range mc.peerSets {
		mc.peerSets[i] = newBitset(n)
	}
	for l, c := range cls {
		c.peers.each(func(pi int) { mc.peerSets[pi].set(l) })
	}
	mc.in, mc.eg = make([]bitset, n), make([]bitset, n)
	for i := range n {
		mc.in[i], mc.eg[i] = newBitset(n), newBitset(n)
	}
	return mc
}

func (mc *matrixCompute) probe(p netpol.Probe) bitset {
	for l, c := range mc.cls {
		mc.ingressSet(mc.in[l], c, p)
		mc.egressSet(mc.eg[l], c, p)
	}
	out := newBitset(mc.n * mc.n)
	for s := range mc.n {
		eg := mc.eg[s]
		for d := range mc.n {
			if eg.has(d) && mc.in[d].has(s) {
				out.set(s*mc.n + d)
			}
		}
	}
	return out
}

// ingressSet computes the sources that dst's ingress allows.
func (mc *matrixCompute) ingressSet(out bitset, dst *class, p netpol.Probe) {
	if !dst.subject || len(dst.ingress) == 0 {
		out.fill(mc.n)
		return
	}
	out.clear()
	for _, ref := range dst.inRules {
		r := ref.r
		if !r.portAllowed(p, dst.ports) {
			continue
		}
		if r.allPeers {
			out.fill(mc.n)
			return
		}
		for _, peer := range r.peers {
			out.or(mc.peerSets[peer])
		}
	}
}

// egressSet computes the destinations that src's egress allows. Named ports
// resolve on each destination, so a rule with only named ports allows the
// destinations whose ports resolve.
func (mc *matrixCompute) egressSet(out bitset, src *class, p netpol.Probe) {
	if !src.subject || len(src.egress) == 0 {
		out.fill(mc.n)
		return
	}
	out.clear()
	for _, ref := range src.egRules {
		r := ref.r
		ports := mc.portSet(r, p)
		if ports == nil {
			continue
		}
		if r.allPeers {
			out.or(ports)
			continue
		}
		mc.tmp.clear()
		for _, peer := range r.peers {
			mc.tmp.or(mc.peerSets[peer])
		}
		mc.tmp.and(ports)
		out.or(mc.tmp)
	}
}

// portSet returns the destinations on which r's ports allow p, or nil when
// none do. The set returned may be mc.named, valid until the next call.
func (mc *matrixCompute) portSet(r *rule, p netpol.Probe) bitset {
	if r.allPorts {
		return mc.all
	}
	var named bitset
	for i := range r.ports {
		pm := &r.ports[i]
		if pm.kind != portNamed {
			if pm.matches(p, nil) {
				return mc.all
			}
			continue
		}
		if pm.protocol != p.Protocol {
			continue
		}
		s := mc.namedSet(pm.name, p)
		if named == nil {
			named = mc.named
			named.clear()
		}
		named.or(s)
	}
	return named
}

func (mc *matrixCompute) namedSet(name string, p netpol.Probe) bitset {
	k := namedKey{name, p}
	if s, ok := mc.namedSets[k]; ok {
		return s
	}
	s := newBitset(mc.n)
	pm := portMatch{kind: portNamed, protocol: p.Protocol, name: name}
	for l, c := range mc.cls {
		if pm.matches(p, c.ports) {
			s.set(l)
		}
	}
	mc.namedSets[k] = s
	return s
}
