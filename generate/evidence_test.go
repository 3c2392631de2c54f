package generate_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
)

// TestEvidenceFits gives one workload 3,000 clients on 3,000 ports: the
// evidence is cut to keep the policy's annotations within what the API
// server takes, and every rule keeps a line.
func TestEvidenceFits(t *testing.T) {
	snap := &netpol.Snapshot{}
	snap.Pods = append(snap.Pods, netpoltest.Pod("shop/api-0", "app=api", "10.0.0.1", ""))
	g := graph.New()
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	api := graph.WorkloadNode(graph.KindPod, "shop", "api-0")
	for i := range 3000 {
		ext := graph.ExternalNode(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}))
		g.Add(graph.Edge{From: ext, To: api, Forwarded: []graph.PortStats{
			{Protocol: netpol.ProtocolTCP, Port: uint16(10000 + i), Count: 1, FirstSeen: at, LastSeen: at}}})
	}
	r, err := generate.Policies(g, snap, generate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, np := range r.Policies {
		size, rules := 0, 0
		for k, v := range np.Annotations {
			size += len(k) + len(v)
			if strings.HasPrefix(k, generate.EvidencePrefix) {
				rules++
			}
		}
		if size > 256<<10 {
			t.Errorf("%s: %d bytes of annotations", np.Name, size)
		}
		if rules != len(np.Spec.Ingress)+len(np.Spec.Egress) {
			t.Errorf("%s: %d evidence annotations for %d rules", np.Name, rules, len(np.Spec.Ingress)+len(np.Spec.Egress))
		}
	}
}
