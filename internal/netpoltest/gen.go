package netpoltest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// Size says how big a generated snapshot is and what it may hold.
type Size struct {
	Namespaces int
	// Pods to MaxPods pods (MaxPods below Pods: exactly Pods).
	Pods, MaxPods int
	// Policies to MaxPolicies policies (MaxPolicies below Policies: exactly
	// Policies).
	Policies, MaxPolicies int
	// Externals is how many external addresses Externals returns.
	Externals int
	// Workloads makes the snapshot realistic rather than adversarial: pods
	// come in workloads whose replicas share labels, and policies are mostly
	// per-application allow rules plus default denies.
	Workloads bool
	// Cluster adds what the oracle scenario format cannot hold: nodes with
	// pod ranges and addresses, hostNetwork pods, workload templates,
	// pending pods without an address, finished pods, dual-stack pods,
	// externals at node addresses, and port names repeated across the
	// containers of one pod.
	Cluster bool
}

// The sizes the tests use.
var (
	// Small is for differential and fuzz tests: every construct, few
	// endpoints, so that selectors both hit and miss.
	Small = Size{Namespaces: 3, Pods: 6, MaxPods: 9, Policies: 1, MaxPolicies: 6, Externals: 3}
	// SmallCluster is Small plus the Cluster constructs.
	SmallCluster = Size{Namespaces: 3, Pods: 6, MaxPods: 9, Policies: 1, MaxPolicies: 6, Externals: 3, Cluster: true}
	// Large is a realistic cluster for benchmarks.
	Large = Size{Namespaces: 100, Pods: 10000, Policies: 3000, Externals: 20, Workloads: true}
)

// Generate returns a pseudo-random snapshot of the given size; the same seed
// and size always give the same snapshot. Every policy is valid but
// deliberately not defaulted (policyTypes omitted, protocols unset, empty
// lists), as users write them.
func Generate(seed int64, size Size) *netpol.Snapshot {
	g := newGen(seed, size)
	if size.Workloads {
		g.realistic()
	} else {
		g.adversarial()
	}
	return g.s
}

// Externals returns size.Externals external addresses for Generate(seed,
// size): IPv4 and IPv6, some inside the pods' ranges but not pods, and with
// Cluster some at node addresses. They are never pod addresses.
func Externals(seed int64, size Size) []netip.Addr {
	pool := []string{
		"192.0.2.7", "2001:db8::7", "10.0.250.1", "fd00::fa:1", "203.0.113.9",
		"198.51.100.1", "2001:db8:1::1", "10.255.0.1", "192.0.2.200", "fd00:ff::1",
	}
	if size.Cluster {
		pool = append(pool, nodeAddresses[0], nodeAddresses[1], nodeAddresses[2])
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0xe7e7))
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	var out []netip.Addr
	for i := 0; i < size.Externals; i++ {
		if i < len(pool) {
			out = append(out, netip.MustParseAddr(pool[i]))
			continue
		}
		out = append(out, netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}))
	}
	return out
}

// Probes returns the probes worth asking of a snapshot: every container
// port, every numeric policy port with the ends of its range and the port
// just past it, and TCP/80, UDP/53 and SCTP/81; sorted by protocol and port.
func Probes(s *netpol.Snapshot) []netpol.Probe {
	set := map[netpol.Probe]bool{
		{Protocol: netpol.ProtocolTCP, Port: 80}: true, {Protocol: netpol.ProtocolUDP, Port: 53}: true,
		{Protocol: netpol.ProtocolSCTP, Port: 81}: true,
	}
	add := func(proto netpol.Protocol, port int) {
		if port > 0 && port < 65536 && proto != netpol.ProtocolUnknown {
			set[netpol.Probe{Protocol: proto, Port: uint16(port)}] = true
		}
	}
	for _, ep := range s.Endpoints() {
		for _, p := range ep.Ports {
			add(p.Protocol, int(p.Port))
		}
	}
	for _, np := range s.Policies {
		var ports []networkingv1.NetworkPolicyPort
		for _, r := range np.Spec.Ingress {
			ports = append(ports, r.Ports...)
		}
		for _, r := range np.Spec.Egress {
			ports = append(ports, r.Ports...)
		}
		for _, p := range ports {
			proto := netpol.ProtocolTCP
			if p.Protocol != nil {
				proto, _ = netpol.ParseProtocol(string(*p.Protocol))
			}
			if p.Port == nil || p.Port.Type != intstr.Int {
				continue
			}
			add(proto, int(p.Port.IntVal))
			if p.EndPort != nil {
				add(proto, int(*p.EndPort))
				add(proto, int(*p.EndPort)+1)
			}
		}
	}
	out := make([]netpol.Probe, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.SortFunc(out, netpol.Probe.Compare)
	return out
}

// gen holds the state of one generation.
type gen struct {
	r     *rand.Rand
	size  Size
	s     *netpol.Snapshot
	addrs []netip.Addr // pod addresses so far, for ipBlocks that hit them
}

func newGen(seed int64, size Size) *gen {
	return &gen{r: rand.New(rand.NewPCG(uint64(seed), 0x6e6574706f6c)), size: size, s: &netpol.Snapshot{}}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// between returns a number from lo to hi inclusive (lo when hi < lo).
func (g *gen) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.r.IntN(hi-lo+1)
}

// The vocabularies of the adversarial generator: few keys and values, the
// empty value among them, so that selectors hit, miss, and meet missing keys.
var (
	podKeys       = []string{"app", "tier", "k"}
	podValues     = []string{"a", "b", ""}
	nsKeys        = []string{"team", "env"}
	nsValues      = []string{"red", "blue", ""}
	portNames     = []string{"http", "dns", "metrics", "serve-80-tcp", "serve-81-udp", "init-http", "nope"}
	protocols     = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	nodeNames     = []string{"n1", "n2"}
	nodeAddresses = []string{"172.16.0.1", "172.16.0.2", "fd01::2"}
)

// portChoice is a container port the generator may give a pod; several
// names for one number, and one name ("http", "dns") for several numbers.
type portChoice struct {
	proto corev1.Protocol
	port  int32
	names []string
}

var portPool = []portChoice{
	{corev1.ProtocolTCP, 80, []string{"http", "serve-80-tcp", ""}},
	{corev1.ProtocolTCP, 8080, []string{"http", ""}},
	{corev1.ProtocolTCP, 443, []string{"https", ""}},
	{corev1.ProtocolUDP, 53, []string{"dns", ""}},
	{corev1.ProtocolTCP, 53, []string{"dns-tcp", "dns", ""}},
	{corev1.ProtocolUDP, 81, []string{"serve-81-udp", ""}},
	{corev1.ProtocolSCTP, 81, []string{"serve-81-sctp", "metrics", ""}},
	{corev1.ProtocolSCTP, 9000, []string{"metrics", ""}},
}

func namespaceName(i, n int) string {
	if n <= 3 {
		return []string{"x", "y", "z"}[i]
	}
	return fmt.Sprintf("ns%d", i)
}

func (g *gen) addNamespaces(labels func(i int) map[string]string) {
	for i := 0; i < g.size.Namespaces; i++ {
		g.s.Namespaces = append(g.s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: namespaceName(i, g.size.Namespaces), Labels: labels(i),
		}})
	}
}

// randomLabels gives each key a random value, or leaves it out.
func (g *gen) randomLabels(keys, values []string, p float64) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if g.chance(p) {
			out[k] = pick(g, values)
		}
	}
	if len(out) == 0 && g.chance(0.5) {
		return nil
	}
	return out
}

// randomSelector returns a selector over the vocabulary, possibly empty:
// matchLabels (empty values included) and every operator, on keys that
// some objects lack.
func (g *gen) randomSelector(keys, values []string) *metav1.LabelSelector {
	sel := &metav1.LabelSelector{}
	for range g.between(0, 2) {
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[pick(g, keys)] = pick(g, values)
	}
	ops := []metav1.LabelSelectorOperator{
		metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist,
	}
	for range g.between(0, 2) {
		req := metav1.LabelSelectorRequirement{Key: pick(g, keys), Operator: pick(g, ops)}
		if g.chance(0.1) {
			req.Key = "missing"
		}
		if req.Operator == metav1.LabelSelectorOpIn || req.Operator == metav1.LabelSelectorOpNotIn {
			for range g.between(1, 2) {
				req.Values = append(req.Values, pick(g, values))
			}
		}
		sel.MatchExpressions = append(sel.MatchExpressions, req)
	}
	return sel
}

// containers returns the pod's containers and init containers with ports
// from the pool: names unique in the pod (unless dupNames), numbers unique
// per protocol. Some ports sit in a native sidecar, and some in an ordinary
// init container, where they must not count.
func (g *gen) containers(spec *corev1.PodSpec, dupNames bool) {
	main := corev1.Container{Name: "main", Image: "app"}
	side := corev1.Container{Name: "sidecar", Image: "proxy"}
	usedNames := map[string]bool{}
	type protoPort struct {
		proto corev1.Protocol
		port  int32
	}
	usedPorts := map[protoPort]bool{}
	for range g.between(0, 3) {
		c := pick(g, portPool)
		key := protoPort{c.proto, c.port}
		if usedPorts[key] {
			continue
		}
		usedPorts[key] = true
		name := pick(g, c.names)
		if usedNames[name] && !dupNames {
			name = ""
		}
		if name != "" {
			usedNames[name] = true
		}
		cp := corev1.ContainerPort{Name: name, ContainerPort: c.port, Protocol: c.proto}
		if c.proto == corev1.ProtocolTCP && g.chance(0.3) {
			cp.Protocol = "" // defaults to TCP
		}
		if g.chance(0.2) {
			side.Ports = append(side.Ports, cp)
		} else {
			main.Ports = append(main.Ports, cp)
		}
	}
	spec.Containers = []corev1.Container{main}
	if len(side.Ports) > 0 {
		always := corev1.ContainerRestartPolicyAlways
		if g.chance(0.5) {
			side.RestartPolicy = &always
			spec.InitContainers = []corev1.Container{side}
		} else {
			spec.Containers = append(spec.Containers, side)
		}
	}
	if g.chance(0.15) {
		name := "init-http" // an ordinary init container: its port never counts
		spec.InitContainers = append(spec.InitContainers, corev1.Container{
			Name: "init", Image: "setup", Ports: []corev1.ContainerPort{{Name: name, ContainerPort: 80, Protocol: corev1.ProtocolUDP}},
		})
	}
}
