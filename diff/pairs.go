package diff

import (
	"slices"
	"strconv"
	"strings"
)

// joint is a set of peers, on both sides, whose endpoints fall in the same
// classes on each side: every verdict between two of its peers, or from
// one of them to a peer of another joint, is the same for all of them.
type joint struct {
	units    []int32
	external bool
	inScope  bool // some peer is in the namespace of Options.Namespace
}

// partition sorts the peers present on both sides into joints, except the
// exact ones, which are returned apart.
func (c *comparison) partition() (joints []joint, exact, both []int32) {
	byKey := map[string]int{}
	var key strings.Builder
	for u := range int32(len(c.u.peers)) {
		if !c.u.both(u) {
			continue
		}
		both = append(both, u)
		b, h := &c.u.sides[0][u], &c.u.sides[1][u]
		if b.exact || h.exact {
			exact = append(exact, u)
			continue
		}
		key.Reset()
		writeClasses(&key, b.groups)
		key.WriteByte('|')
		writeClasses(&key, h.groups)
		j, ok := byKey[key.String()]
		if !ok {
			j = len(joints)
			byKey[key.String()] = j
			joints = append(joints, joint{external: c.u.peers[u].IsExternal()})
		}
		joints[j].units = append(joints[j].units, u)
		joints[j].inScope = joints[j].inScope || c.scoped(u)
	}
	return joints, exact, both
}

func writeClasses(b *strings.Builder, gs []group) {
	classes := make([]int, len(gs))
	for i, g := range gs {
		classes[i] = int(g.class)
	}
	slices.Sort(classes)
	for _, cl := range classes {
		b.WriteString(strconv.Itoa(cl))
		b.WriteByte(',')
	}
}

// scoped reports whether peer u is in the namespace the report is limited
// to (always, without a limit).
func (c *comparison) scoped(u int32) bool {
	return c.opts.Namespace == "" || c.u.peers[u].Namespace == c.opts.Namespace
}

// rawChange is a change before it is reported: peers by index, the probe
// by index, the reasons by index into comparison.reasonSets. It holds no
// pointer, so that millions of them cost the garbage collector nothing.
type rawChange struct {
	from, to      int32
	reasons       int32
	probe         int16
	before, after State
}

// changes computes every peer pair and probe whose state differs between
// the sides, in no particular order.
func (c *comparison) changes() []rawChange {
	joints, exact, both := c.partition()
	isExact := make([]bool, len(c.u.peers))
	for _, u := range exact {
		isExact[u] = true
	}
	var out []rawChange
	for j1 := range joints {
		for j2 := range joints {
			out = c.jointPair(out, &joints[j1], &joints[j2], j1 == j2)
		}
	}
	for _, u := range both {
		if !isExact[u] {
			out = c.pair(out, u, u)
		}
	}
	for _, x := range exact {
		for _, y := range both {
			out = c.pair(out, x, y)
			if !isExact[y] {
				out = c.pair(out, y, x)
			}
		}
	}
	return out
}

// jointPair adds the changes between the peers of two joints (one joint
// twice when same), computed once on a representative pair.
func (c *comparison) jointPair(out []rawChange, j1, j2 *joint, same bool) []rawChange {
	if j1.external && j2.external || !j1.inScope && !j2.inScope {
		return out
	}
	a, b := j1.units[0], j2.units[0]
	if same {
		if len(j1.units) < 2 {
			return out
		}
		b = j1.units[1]
	}
	for k := range c.probes {
		before, after := c.states(a, b, k)
		if before == after || before == NoPairs || after == NoPairs {
			continue
		}
		reasons := c.reasons(a, b, k, before, after)
		for _, x := range j1.units {
			for _, y := range j2.units {
				if x != y && (c.scoped(x) || c.scoped(y)) {
					out = append(out, rawChange{x, y, reasons, int16(k), before, after})
				}
			}
		}
	}
	return out
}

// pair adds the changes from peer a to peer b.
func (c *comparison) pair(out []rawChange, a, b int32) []rawChange {
	if !c.scoped(a) && !c.scoped(b) || c.u.peers[a].IsExternal() && c.u.peers[b].IsExternal() {
		return out
	}
	for k := range c.probes {
		before, after := c.states(a, b, k)
		if before == after || before == NoPairs || after == NoPairs {
			continue
		}
		out = append(out, rawChange{a, b, c.reasons(a, b, k, before, after), int16(k), before, after})
	}
	return out
}

// states returns the state from a to b on probe k in the base and the
// head.
func (c *comparison) states(a, b int32, k int) (before, after State) {
	same := a == b
	before = c.sides[0].state(&c.u.sides[0][a], &c.u.sides[0][b], same, k)
	after = c.sides[1].state(&c.u.sides[1][a], &c.u.sides[1][b], same, k)
	return before, after
}
