package generate_test

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
)

// Generate the policies of one observed connection, web to api on
// TCP/8080, and prove them with the simulator.
func ExamplePolicies() {
	snap := &netpol.Snapshot{Pods: []corev1.Pod{
		netpoltest.Pod("shop/web-0", "app=web", "10.0.0.1", ""),
		netpoltest.Pod("shop/api-0", "app=api", "10.0.0.2", "http:8080"),
	}}
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	g := graph.New()
	g.Add(graph.Edge{From: graph.WorkloadNode(graph.KindPod, "shop", "web-0"), To: graph.WorkloadNode(graph.KindPod, "shop", "api-0"),
		Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 8080, Count: 3, FirstSeen: at, LastSeen: at}}})
	r, err := generate.Policies(g, snap, generate.Options{NamedPorts: true})
	if err != nil {
		panic(err)
	}
	for _, np := range r.Policies {
		fmt.Println(np.Namespace+"/"+np.Name, np.Spec.PolicyTypes)
	}
	c, err := generate.Verify(g, snap, r)
	if err != nil {
		panic(err)
	}
	fmt.Printf("guarantees hold: %v (%d observed connection checked, %d pairs of workloads)\n", c.OK(), c.Observed, c.Pairs)
	// Output:
	// shop/default-deny [Ingress Egress]
	// shop/api-0 [Ingress]
	// shop/web-0 [Egress]
	// guarantees hold: true (1 observed connection checked, 4 pairs of workloads)
}
