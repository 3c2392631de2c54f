package generate_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
)

// largeCluster returns a cluster of ns namespaces with perNS Deployments
// each (one pod per Deployment, app=<name>, two container ports out of a
// pool of 20), kube-system with CoreDNS, and a learned graph of exactly
// edges distinct edges: one DNS edge per workload, then 5% to external
// addresses, 55% within a namespace, the rest across namespaces, on the
// destination's ports.
func largeCluster(ns, perNS, edges int) (*netpol.Snapshot, *graph.Graph) {
	r := rand.New(rand.NewPCG(1, 2))
	s := &netpol.Snapshot{}
	ports := make([]int32, 20)
	for i := range ports {
		ports[i] = int32(8000 + 10*i)
	}
	var nodes []graph.Node
	podPorts := map[graph.Node][]int32{}
	ip := 0
	addPod := func(namespace, name string, labels map[string]string, cp []corev1.ContainerPort) {
		ip++
		addr := netip.AddrFrom4([4]byte{10, byte(ip >> 16), byte(ip >> 8), byte(ip)}).String()
		l := map[string]string{"pod-template-hash": "5d8f7c9b4"}
		for k, v := range labels {
			l[k] = v
		}
		s.Pods = append(s.Pods, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-5d8f7c9b4-x2x9q", Labels: l,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-5d8f7c9b4", UID: "u", Controller: ptr(true)}}},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: name, Ports: cp}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: addr, PodIPs: []corev1.PodIP{{IP: addr}}},
		})
	}
	addPod("kube-system", "coredns", map[string]string{"k8s-app": "kube-dns"}, []corev1.ContainerPort{
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53}})
	s.Services = append(s.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Selector: map[string]string{"k8s-app": "kube-dns"}, Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)}}}})
	for n := range ns {
		namespace := fmt.Sprintf("team-%03d", n)
		for w := range perNS {
			name := fmt.Sprintf("svc-%02d", w)
			p1, p2 := ports[r.IntN(len(ports))], ports[r.IntN(len(ports))]
			addPod(namespace, name, map[string]string{"app": name, "tier": []string{"web", "api", "db"}[w%3]},
				[]corev1.ContainerPort{{Name: "http", ContainerPort: p1}, {Name: "metrics", ContainerPort: p2}})
			node := graph.WorkloadNode(graph.KindDeployment, namespace, name)
			nodes = append(nodes, node)
			podPorts[node] = []int32{p1, p2}
		}
	}
	g := graph.New()
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	dns := graph.WorkloadNode(graph.KindDeployment, "kube-system", "coredns")
	add := func(from, to graph.Node, proto netpol.Protocol, port int32) {
		g.Add(graph.Edge{From: from, To: to, Forwarded: []graph.PortStats{{Protocol: proto, Port: uint16(port),
			Count: 1 + int64(r.IntN(100)), FirstSeen: at, LastSeen: at.Add(time.Hour)}}})
	}
	for _, n := range nodes {
		add(n, dns, netpol.ProtocolUDP, 53)
	}
	index := map[graph.Node]int{}
	for i, n := range nodes {
		index[n] = i
	}
	for n, _ := g.Len(); n < edges; n, _ = g.Len() {
		from := nodes[r.IntN(len(nodes))]
		var to graph.Node
		switch roll := r.IntN(100); {
		case roll < 5:
			ext := graph.ExternalNode(netip.AddrFrom4([4]byte{203, 0, byte(r.IntN(4)), byte(r.IntN(250))}))
			add(from, ext, netpol.ProtocolTCP, 443)
			continue
		case roll < 60:
			to = nodes[index[from]/perNS*perNS+r.IntN(perNS)]
		default:
			to = nodes[r.IntN(len(nodes))]
		}
		add(from, to, netpol.ProtocolTCP, podPorts[to][r.IntN(2)])
	}
	for n := range ns {
		g.Observe(fmt.Sprintf("team-%03d", n), graph.Window{First: at, Last: at.Add(time.Hour)})
	}
	return s, g
}

// BenchmarkGenerateAndVerify measures generation plus the guarantee check
// for a learned graph of 5,000 workloads in 500 namespaces with 50,000
// edges (BENCHMARKS.md).
func BenchmarkGenerateAndVerify(b *testing.B) {
	s, g := largeCluster(500, 10, 50000)
	b.ResetTimer()
	cpu := netpoltest.CPUTime()
	var gen, check time.Duration
	for range b.N {
		start := time.Now()
		r, err := generate.Policies(g, s, generate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		c, err := generate.Verify(g, s, r)
		if err != nil {
			b.Fatal(err)
		}
		gen, check = gen+mid.Sub(start), check+time.Since(mid)
		if !c.OK() {
			b.Fatalf("guarantees fail: %v %v", first(c.Denied), first(c.Unexpected))
		}
		if len(r.Policies) < 5000 || c.Observed < 50000 {
			b.Fatalf("%d policies, %d observed connections checked", len(r.Policies), c.Observed)
		}
	}
	b.ReportMetric((netpoltest.CPUTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(gen.Seconds()/float64(b.N), "generate-s/op")
	b.ReportMetric(check.Seconds()/float64(b.N), "verify-s/op")
}
