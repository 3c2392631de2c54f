package graph

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// The bounds of the DNS names a Graph keeps: names beyond them are not
// recorded, so that a resolver answering many names cannot grow the graph
// without limit.
const (
	// MaxNamesPerAddr is the most names kept for one address.
	MaxNamesPerAddr = 16
	// MaxNames is the most (address, name) pairs kept in a graph.
	MaxNames = 1 << 16
	// maxNameLen is the longest DNS name kept (RFC 1035: 253 characters).
	maxNameLen = 253
)

// AddName records that address a was an answer for the DNS name name (as
// a flow's DNS record or destination names said). The name is kept lower
// case and without its trailing dot; an empty or over-long name, an invalid
// address and names beyond MaxNamesPerAddr or MaxNames are ignored.
func (g *Graph) AddName(a netip.Addr, name string) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	a = a.Unmap().WithZone("")
	if !a.IsValid() || name == "" || len(name) > maxNameLen {
		return
	}
	set := g.names[a]
	if _, ok := set[name]; ok {
		return
	}
	if len(set) >= MaxNamesPerAddr || g.nameCount >= MaxNames {
		return
	}
	if set == nil {
		set = map[string]struct{}{}
		g.names[a] = set
	}
	set[strings.Clone(name)] = struct{}{}
	g.nameCount++
}

// Names returns the DNS names address a was an answer for, sorted; nil when
// none was seen.
func (g *Graph) Names(a netip.Addr) []string {
	set := g.names[a.Unmap().WithZone("")]
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}

// NamedAddrs returns the addresses that have DNS names, sorted.
func (g *Graph) NamedAddrs() []netip.Addr {
	out := slices.Collect(maps.Keys(g.names))
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

// mergeNames adds the names of o to g.
func (g *Graph) mergeNames(o *Graph, keep func(netip.Addr) bool) {
	for _, a := range o.NamedAddrs() {
		if keep != nil && !keep(a) {
			continue
		}
		for _, n := range o.Names(a) {
			g.AddName(a, n)
		}
	}
}
