package generate

import (
	"github.com/netpol/netpol"
)

// finishPorts applies the port options to r, whose destinations have the
// container ports dst (one list per destination endpoint): with
// NamedPorts, a number becomes its name when every destination gives it
// the same one; with PortRanges, runs of consecutive numbers become one
// range.
func (b *builder) finishPorts(r *rulePlan, dst [][]netpol.Port) {
	if b.o.NamedPorts && len(dst) > 0 {
		for i := range r.ports {
			if name := commonName(r.ports[i], dst); name != "" {
				r.ports[i].name = name
			}
		}
	}
	if b.o.PortRanges {
		r.ports = ranges(r.ports)
	}
}

// commonName returns the name every destination gives port p, or "":
// the name must mean p and nothing else on every destination (a name
// repeated across containers for other numbers would allow those too).
func commonName(p portSpec, dst [][]netpol.Port) string {
	name := ""
	for _, ports := range dst {
		found := ""
		for _, cp := range ports {
			if cp.Protocol == p.protocol && cp.Port == p.port && cp.Name != "" {
				if found != "" && found != cp.Name {
					return "" // two names for one number: ambiguous
				}
				found = cp.Name
			}
		}
		if found == "" || name != "" && found != name {
			return ""
		}
		for _, cp := range ports {
			if cp.Name == found && cp.Protocol == p.protocol && cp.Port != p.port {
				return ""
			}
		}
		name = found
	}
	return name
}

// ranges merges runs of two or more consecutive numbered ports of one
// protocol into a range; ports are sorted by protocol and number, named
// ones stay as they are.
func ranges(ports []portSpec) []portSpec {
	var out []portSpec
	for _, p := range ports {
		if n := len(out); n > 0 && p.name == "" && out[n-1].name == "" && out[n-1].protocol == p.protocol &&
			uint32(max(out[n-1].end, out[n-1].port))+1 == uint32(p.port) {
			out[n-1].end = p.port
			continue
		}
		out = append(out, p)
	}
	return out
}

// destinationPorts returns the container ports of the destinations of an
// egress rule: the endpoints of its pods peers' workloads; nil when a peer
// is not pods (an address has no port names).
func (b *builder) destinationPorts(r *rulePlan) [][]netpol.Port {
	var out [][]netpol.Port
	for _, p := range r.peers {
		if p.kind != peerPods {
			return nil
		}
		for _, n := range p.nodes {
			if w := b.inv.workloads[n]; w != nil {
				out = append(out, b.inv.ports(w)...)
			}
		}
	}
	return out
}
