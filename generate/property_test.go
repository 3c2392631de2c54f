package generate_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
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

// TestPropertyRealistic generates random clusters of workloads that a
// selector can tell apart, random observed graphs over them, generates
// policies with random options and proves both guarantees through the
// simulator: every observed connection is allowed, and nothing else is.
func TestPropertyRealistic(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 40
	}
	for seed := range int64(seeds) {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		snap, nodes := realisticCluster(r)
		g := randomGraph(r, snap, nodes)
		opts := generate.Options{NamedPorts: r.IntN(2) == 0, PortRanges: r.IntN(2) == 0, LockIdle: r.IntN(3) == 0}
		if r.IntN(3) == 0 {
			opts.Namespaces = []string{"kube-system", "shop", "pay"}[:1+r.IntN(3)]
		}
		res, err := generate.Policies(g, snap, opts)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, ns := range res.Namespaces {
			for _, w := range ns.Workloads {
				if !w.Exact {
					t.Fatalf("seed %d: %s has no exact selector (%v): the generator of the test is wrong", seed, w.Node, w.Selector)
				}
			}
		}
		c, err := generate.Verify(g, snap, res)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !c.OK() || len(c.Existing) > 0 {
			t.Errorf("seed %d (%+v): %d denied, %d unexpected, %d existing; first: %v %v",
				seed, opts, len(c.Denied), len(c.Unexpected), len(c.Existing), first(c.Denied), first(c.Unexpected))
		}
		if c.Observed+len(c.Unchecked) == 0 && touches(g, res) {
			t.Errorf("seed %d: nothing was checked", seed)
		}
	}
}

func first(fs []generate.Fault) string {
	if len(fs) == 0 {
		return "-"
	}
	return fs[0].String()
}

// touches reports whether a forwarded edge of g has an end in a namespace
// of the result.
func touches(g *graph.Graph, r *generate.Result) bool {
	in := map[string]bool{}
	for _, ns := range r.Namespaces {
		in[ns.Name] = true
	}
	for _, e := range g.Edges() {
		if len(e.Forwarded) > 0 && (in[e.From.Namespace] || in[e.To.Namespace]) {
			return true
		}
	}
	return false
}

// TestPropertyAdversarial runs the generator on netpoltest.Generate's
// adversarial clusters (few labels, many clashes, hostNetwork pods,
// templates, policies of their own) and random graphs. Where a workload
// has no exact selector the guarantees cannot hold, and the generator says
// so; every fault must involve a workload that the report flags.
func TestPropertyAdversarial(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 40
	}
	clean := 0
	for seed := range int64(seeds) {
		snap := netpoltest.Generate(seed, netpoltest.SmallCluster)
		r := rand.New(rand.NewPCG(uint64(seed), 11))
		var nodes []graph.Node
		res0 := graph.NewResolver(snap)
		for _, ep := range snap.Endpoints() {
			if ep.Kind == netpol.EndpointTemplate {
				nodes = append(nodes, graph.WorkloadNode(graph.Kind(ep.WorkloadKind), ep.Namespace, ep.Name))
			} else {
				nodes = append(nodes, res0.Pod(ep.Namespace, ep.Name, ep.Labels, netpol.WorkloadRef{}, time.Time{}))
			}
		}
		g := randomGraph(r, snap, nodes)
		opts := generate.Options{NamedPorts: r.IntN(2) == 0, PortRanges: r.IntN(2) == 0, LockIdle: r.IntN(2) == 0}
		res, err := generate.Policies(g, snap, opts)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		c, err := generate.Verify(g, snap, res)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		flagged := flaggedWorkloads(snap, res)
		if len(flagged) == 0 {
			clean++
			if !c.OK() {
				t.Errorf("seed %d: no workload flagged, yet %d denied, %d unexpected; first: %v %v",
					seed, len(c.Denied), len(c.Unexpected), first(c.Denied), first(c.Unexpected))
			}
			continue
		}
		for _, f := range append(slices.Clone(c.Denied), c.Unexpected...) {
			if !flagged[f.From] && !flagged[f.To] {
				t.Errorf("seed %d: fault on workloads the report does not flag: %s", seed, first([]generate.Fault{f}))
			}
		}
	}
	if clean < seeds/10 {
		t.Errorf("only %d of %d seeds had every workload exactly selectable: the test proves little", clean, seeds)
	}
}

// flaggedWorkloads returns the workloads (by display name) that a
// selector problem concerns: those without an exact selector, and those
// whose pods an inexact selector of another workload also selects.
func flaggedWorkloads(s *netpol.Snapshot, r *generate.Result) map[string]bool {
	out := map[string]bool{}
	labels := map[string]map[string]string{}
	for _, ep := range s.Endpoints() {
		labels[ep.Namespace+"/"+ep.Name] = ep.Labels
	}
	for _, ns := range r.Namespaces {
		for _, w := range ns.Workloads {
			if w.Exact {
				continue
			}
			out[w.Node.String()] = true
			if w.Selector == nil {
				continue
			}
			for id, l := range labels {
				if strings.HasPrefix(id, ns.Name+"/") && matches(w.Selector, l) {
					out[id] = true
				}
			}
		}
	}
	return out
}

func matches(sel, l map[string]string) bool {
	for k, v := range sel {
		if got, ok := l[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// randomGraph draws up to 20 edges between the nodes, externals and
// reserved identities, on container ports and a few others.
func randomGraph(r *rand.Rand, s *netpol.Snapshot, nodes []graph.Node) *graph.Graph {
	g := graph.New()
	pool := slices.Clone(nodes)
	for _, a := range []string{"203.0.113.7", "2001:db8::7", "198.51.100.1"} {
		ext := graph.ExternalNode(netip.MustParseAddr(a))
		pool = append(pool, ext)
		if r.IntN(2) == 0 {
			g.AddName(ext.Addr(), "api.example.com")
		}
	}
	pool = append(pool, graph.ReservedNode(netpol.ReservedKubeAPIServer), graph.ReservedNode(netpol.ReservedRemoteNode))
	probes := []netpol.Probe{{Protocol: netpol.ProtocolTCP, Port: 80}, {Protocol: netpol.ProtocolTCP, Port: 8080},
		{Protocol: netpol.ProtocolUDP, Port: 53}, {Protocol: netpol.ProtocolTCP, Port: 53}, {Protocol: netpol.ProtocolSCTP, Port: 81},
		{Protocol: netpol.ProtocolTCP, Port: 8081}, {Protocol: netpol.ProtocolTCP, Port: 443}}
	for _, ep := range s.Endpoints() {
		for _, p := range ep.Ports {
			probes = append(probes, netpol.Probe{Protocol: p.Protocol, Port: p.Port})
		}
	}
	for ns := range s.NamespaceLabels() {
		if r.IntN(4) > 0 {
			g.Observe(ns, graph.Window{First: time.Unix(1e9, 0), Last: time.Unix(1e9+3600, 0)})
		}
	}
	if len(nodes) == 0 {
		return g
	}
	for range r.IntN(21) {
		from, to := pool[r.IntN(len(pool))], nodes[r.IntN(len(nodes))]
		if r.IntN(2) == 0 {
			from, to = to, from
		}
		e := graph.Edge{From: from, To: to}
		for range 1 + r.IntN(3) {
			p := probes[r.IntN(len(probes))]
			at := time.Unix(1e9+int64(r.IntN(3600)), 0)
			ps := graph.PortStats{Protocol: p.Protocol, Port: p.Port, Count: 1 + int64(r.IntN(3)), FirstSeen: at, LastSeen: at}
			if !from.IsWorkload() {
				ps.Sample.Time, ps.Sample.Source.IP = at, netip.MustParseAddr("172.16.0.2")
			}
			if !to.IsWorkload() {
				ps.Sample.Time, ps.Sample.Destination.IP = at, netip.MustParseAddr("172.16.0.9")
			}
			if r.IntN(8) == 0 {
				e.Dropped = append(e.Dropped, ps)
			} else {
				e.Forwarded = append(e.Forwarded, ps)
			}
		}
		g.Add(e)
	}
	return g
}

// realisticCluster returns a cluster whose workloads a selector can always
// tell apart, and their nodes: namespaces shop and pay (and kube-system
// with a DNS whose labels are not kube-dns's), Deployments with pods owned
// through ReplicaSets, a canary sharing its app label, a StatefulSet, a
// Deployment without pods, a hostNetwork DaemonSet, nodes, and the API
// server's EndpointSlice.
func realisticCluster(r *rand.Rand) (*netpol.Snapshot, []graph.Node) {
	s := &netpol.Snapshot{}
	var nodes []graph.Node
	ip := 0
	nextIP := func() string { ip++; return fmt.Sprintf("10.4.%d.%d", ip/200, ip%200+1) }
	for i, n := range []string{"node-a", "node-b"} {
		s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.16.0.%d", i+1)}}}})
	}
	ports := [][]corev1.ContainerPort{
		{{Name: "http", ContainerPort: 8080}},
		{{Name: "http", ContainerPort: 80}, {Name: "metrics", ContainerPort: 9090}},
		{{Name: "api", ContainerPort: 8081}, {Name: "api-udp", ContainerPort: 8081, Protocol: corev1.ProtocolUDP}},
		{{Name: "sctp", ContainerPort: 81, Protocol: corev1.ProtocolSCTP}},
	}
	deploy := func(ns, name string, labels map[string]string, replicas int, cp []corev1.ContainerPort, hostNet bool, kind string) {
		w := netpol.Workload{Kind: kind, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Selector: &metav1.LabelSelector{MatchLabels: labels}}
		w.Template.Labels = labels
		w.Template.Spec = corev1.PodSpec{HostNetwork: hostNet, Containers: []corev1.Container{{Name: "c", Image: name, Ports: cp}}}
		s.Workloads = append(s.Workloads, w)
		nodes = append(nodes, graph.WorkloadNode(graph.Kind(kind), ns, name))
		owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: "u", Controller: ptr(true)}
		if kind == "Deployment" {
			owner.Kind, owner.Name = "ReplicaSet", name+"-5d8f7c9b4"
		}
		for i := range replicas {
			pl := map[string]string{"pod-template-hash": "5d8f7c9b4"}
			for k, v := range labels {
				pl[k] = v
			}
			p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-5d8f7c9b4-%c2x9q", name, 'b'+rune(i)),
				Labels: pl, OwnerReferences: []metav1.OwnerReference{owner}},
				Spec:   *w.Template.Spec.DeepCopy(),
				Status: corev1.PodStatus{Phase: corev1.PodRunning}}
			p.Spec.NodeName = []string{"node-a", "node-b"}[i%2]
			addr := nextIP()
			if hostNet {
				addr = fmt.Sprintf("172.16.0.%d", i%2+1)
			}
			p.Status.PodIP, p.Status.PodIPs = addr, []corev1.PodIP{{IP: addr}}
			s.Pods = append(s.Pods, p)
		}
	}
	dnsLabels := []map[string]string{{"k8s-app": "kube-dns"}, {"app.kubernetes.io/name": "rke2-coredns"}, {"dns.operator.openshift.io/daemonset-dns": "default"}}[r.IntN(3)]
	deploy("kube-system", "coredns", dnsLabels, 2, []corev1.ContainerPort{
		{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 5353}}, false, "Deployment")
	s.Services = append(s.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "dns-default"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10", Selector: dnsLabels, Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("dns-tcp")}}}})
	deploy("kube-system", "node-agent", map[string]string{"app": "node-agent"}, 2, []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}}, true, "DaemonSet")
	for _, ns := range []string{"shop", "pay"} {
		for i := range 2 + r.IntN(3) {
			name := fmt.Sprintf("app%d", i)
			labels := map[string]string{"app": name}
			if r.IntN(2) == 0 {
				labels["tier"] = []string{"web", "db"}[r.IntN(2)]
			}
			deploy(ns, name, labels, r.IntN(3), ports[r.IntN(len(ports))], false, "Deployment")
			if r.IntN(3) == 0 {
				canary := map[string]string{"app": name, "track": "canary"}
				deploy(ns, name+"-canary", canary, 1, ports[r.IntN(len(ports))], false, "Deployment")
				labels["track"] = "stable"
			}
		}
		if r.IntN(2) == 0 {
			deploy(ns, "db", map[string]string{"app.kubernetes.io/name": "db"}, 1+r.IntN(2), []corev1.ContainerPort{{Name: "pg", ContainerPort: 5432}}, false, "StatefulSet")
		}
	}
	// A canary's stable twin got its track label after the fact: give its
	// template and pods the label too.
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if _, ok := w.Template.Labels["track"]; ok {
			continue
		}
		for _, o := range s.Workloads {
			if o.Template.Labels["track"] == "canary" && o.Namespace == w.Namespace && o.Name == w.Name+"-canary" {
				w.Template.Labels["track"] = "stable"
			}
		}
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		for _, w := range s.Workloads {
			if w.Namespace == p.Namespace && strings.HasPrefix(p.Name, w.Name+"-5d8f7c9b4-") {
				if v, ok := w.Template.Labels["track"]; ok {
					p.Labels["track"] = v
				}
			}
		}
	}
	return s, nodes
}

func ptr[T any](v T) *T { return &v }

// FuzzGuarantees is TestPropertyRealistic as a fuzz target: any seed gives
// a cluster whose workloads selectors can tell apart and a random observed
// graph, and both guarantees must hold, whatever the options.
func FuzzGuarantees(f *testing.F) {
	for seed := range uint64(8) {
		f.Add(seed, uint8(seed))
	}
	f.Fuzz(func(t *testing.T, seed uint64, flags uint8) {
		r := rand.New(rand.NewPCG(seed, 7))
		snap, nodes := realisticCluster(r)
		g := randomGraph(r, snap, nodes)
		opts := generate.Options{NamedPorts: flags&1 != 0, PortRanges: flags&2 != 0, LockIdle: flags&4 != 0}
		if flags&8 != 0 {
			opts.Namespaces = []string{"kube-system", "shop"}
		}
		res, err := generate.Policies(g, snap, opts)
		if err != nil {
			t.Fatal(err)
		}
		c, err := generate.Verify(g, snap, res)
		if err != nil {
			t.Fatal(err)
		}
		if !c.OK() || len(c.Existing) > 0 {
			t.Errorf("%d denied, %d unexpected, %d existing; first: %v %v",
				len(c.Denied), len(c.Unexpected), len(c.Existing), first(c.Denied), first(c.Unexpected))
		}
	})
}
