package simulate_test

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// TestMatrixClass checks the promise of Matrix.Class: two endpoints of one
// class get the same verdicts from and towards every other endpoint, apart
// from pairs with an endpoint that stands for a node.
func TestMatrixClass(t *testing.T) {
	for seed := range int64(100) {
		for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
			c := newRefCase(seed, size, seed%3 == 0, nil)
			e, err := simulate.Compile(c.snap, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			ids := e.EndpointIDs()
			m := e.Matrix(ids, c.probes)
			nodeish := nodeishEndpoints(c.snap, e.Endpoints())
			byClass, classes := map[int]int{}, map[int]bool{}
			for i := range ids {
				classes[m.Class(i)] = true
				if nodeish[i] {
					continue
				}
				r, ok := byClass[m.Class(i)]
				if !ok {
					byClass[m.Class(i)] = i
					continue
				}
				for o := range ids {
					if o == i || o == r || nodeish[o] {
						continue
					}
					for k := range c.probes {
						if m.Allowed(i, o, k) != m.Allowed(r, o, k) || m.Allowed(o, i, k) != m.Allowed(o, r, k) {
							t.Fatalf("%s: %s and %s share class %d but differ towards %s on %s", c,
								e.Endpoint(ids[i]).ID(), e.Endpoint(ids[r]).ID(), m.Class(i), e.Endpoint(ids[o]).ID(), c.probes[k])
						}
					}
				}
			}
			if m.Classes() != len(classes) {
				t.Fatalf("%s: Classes() = %d, classes seen %d", c, m.Classes(), len(classes))
			}
		}
	}
}

// nodeishEndpoints marks the endpoints that stand for a node: hostNetwork
// pods and externals at a node's address.
func nodeishEndpoints(s *netpol.Snapshot, eps []netpol.Endpoint) []bool {
	nodeIPs := map[netip.Addr]bool{}
	for _, n := range s.Nodes {
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil {
				nodeIPs[ip.Unmap()] = true
			}
		}
	}
	out := make([]bool, len(eps))
	for i, ep := range eps {
		out[i] = ep.HostNetwork || ep.Kind == netpol.EndpointExternal && nodeIPs[ep.IP()]
	}
	return out
}
