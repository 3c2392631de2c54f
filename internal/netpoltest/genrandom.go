package netpoltest

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// adversarial fills g.s with few endpoints and policies that use every
// construct of the API, so that every corner meets every other.
func (g *gen) adversarial() {
	g.addNamespaces(func(int) map[string]string { return g.randomLabels(nsKeys, nsValues, 0.6) })
	if g.size.Cluster {
		g.addNodes()
	}
	n := g.between(g.size.Pods, g.size.MaxPods)
	perNS := make([]int, len(g.s.Namespaces))
	for range n {
		ns := g.r.IntN(len(g.s.Namespaces))
		k := perNS[ns]
		perNS[ns]++
		g.s.Pods = append(g.s.Pods, g.randomPod(ns, k))
	}
	if g.size.Cluster {
		g.addTemplates()
	}
	for i := range g.between(g.size.Policies, g.size.MaxPolicies) {
		g.s.Policies = append(g.s.Policies, g.randomPolicy(i))
	}
}

// randomPod returns pod number k of namespace ns.
func (g *gen) randomPod(ns, k int) corev1.Pod {
	name := fmt.Sprintf("p%d", k)
	if k < 26 {
		name = string(rune('a' + k))
	}
	pod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: g.s.Namespaces[ns].Name, Name: name, Labels: g.randomLabels(podKeys, podValues, 0.6)},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	g.containers(&pod.Spec, g.size.Cluster && g.chance(0.1))
	v4 := netip.AddrFrom4([4]byte{10, 0, byte(ns), byte(k + 1)})
	v6 := netip.AddrFrom16([16]byte{0: 0xfd, 13: byte(ns), 15: byte(k + 1)})
	ips := []netip.Addr{v4}
	if g.chance(0.2) {
		ips = []netip.Addr{v6}
	}
	if g.size.Cluster {
		node := g.r.IntN(len(nodeNames))
		pod.Spec.NodeName = nodeNames[node]
		switch roll := g.r.IntN(100); {
		case roll < 10:
			pod.Spec.HostNetwork = true
			ips = []netip.Addr{netip.MustParseAddr(nodeAddresses[node])}
		case roll < 15:
			pod.Status.Phase = corev1.PodPending
			ips = nil
		case roll < 25:
			ips = []netip.Addr{v4, v6}
		case roll < 30:
			pod.Status.Phase = corev1.PodSucceeded
		case roll < 33: // an IPv4-mapped IPv6 spelling of its IPv4 address
			pod.Status.PodIPs = []corev1.PodIP{{IP: "::ffff:" + v4.String()}}
		}
	}
	if pod.Status.PodIPs == nil {
		for _, ip := range ips {
			pod.Status.PodIPs = append(pod.Status.PodIPs, corev1.PodIP{IP: ip.String()})
		}
	}
	if len(ips) > 0 {
		pod.Status.PodIP = pod.Status.PodIPs[0].IP
		if !pod.Spec.HostNetwork && pod.Status.Phase == corev1.PodRunning {
			g.addrs = append(g.addrs, ips...)
		}
	}
	return pod
}

// addNodes adds two nodes with addresses and, mostly, pod ranges that hold
// the pods' addresses.
func (g *gen) addNodes() {
	ranges := [][]string{{"10.0.0.0/17", "fd00::/64"}, {"10.0.128.0/17"}}
	switch g.r.IntN(3) {
	case 0:
		ranges = [][]string{nil, nil} // no pod ranges: templates get whole families
	case 1:
		ranges = [][]string{{"10.0.0.0/16"}, {"10.0.0.0/16"}}
	}
	addrs := [][]string{{nodeAddresses[0]}, {nodeAddresses[1], nodeAddresses[2]}}
	for i, name := range nodeNames {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDRs: ranges[i]}}
		if len(ranges[i]) > 0 {
			n.Spec.PodCIDR = ranges[i][0]
			if g.chance(0.2) { // only the legacy single-range field
				n.Spec.PodCIDRs = nil
			}
		}
		for _, a := range addrs[i] {
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
		}
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
		g.s.Nodes = append(g.s.Nodes, n)
	}
}

// addTemplates adds workloads without pods, which become template
// endpoints; a label of their own keeps their selectors off every pod.
func (g *gen) addTemplates() {
	kinds := []string{"Deployment", "StatefulSet", "CronJob"}
	for i := range g.between(0, 2) {
		w := netpol.Workload{Kind: pick(g, kinds)}
		w.Namespace = pick(g, g.s.Namespaces).Name
		w.Name = fmt.Sprintf("w%d", i)
		labels := g.randomLabels(podKeys, podValues, 0.6)
		if labels == nil {
			labels = map[string]string{}
		}
		labels["workload"] = w.Name
		w.Template.Labels = labels
		if w.Kind != "CronJob" {
			w.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"workload": w.Name}}
		}
		g.containers(&w.Template.Spec, false)
		w.Template.Spec.HostNetwork = g.chance(0.15)
		g.s.Workloads = append(g.s.Workloads, w)
	}
}

// randomPolicy returns policy number i: any podSelector, policyTypes
// omitted or any of the three, and rule lists that are missing, empty, or
// present (even for a direction the policy does not isolate).
func (g *gen) randomPolicy(i int) networkingv1.NetworkPolicy {
	np := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: pick(g, g.s.Namespaces).Name, Name: fmt.Sprintf("p%d", i)}}
	if !g.chance(0.35) {
		np.Spec.PodSelector = *g.randomSelector(podKeys, podValues)
	}
	in, eg := true, false
	switch g.r.IntN(4) {
	case 0: // omitted: ingress, plus egress when there are egress rules
		eg = g.chance(0.4)
	case 1:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	case 2:
		in, eg = false, true
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	case 3:
		eg = true
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	}
	if g.size.Cluster && len(np.Spec.PolicyTypes) == 1 && g.chance(0.1) {
		// The API server accepts a repeated type; the oracle format does not.
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, np.Spec.PolicyTypes[0])
	}
	for _, r := range g.rules(in) {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: r.ports, From: r.peers})
	}
	if g.chance(0.1) && np.Spec.Ingress == nil {
		np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{} // ingress: []
	}
	egress := g.rules(eg)
	if np.Spec.PolicyTypes == nil && !eg {
		egress = nil // keep the defaulting to [Ingress]
	}
	for _, r := range egress {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: r.ports, To: r.peers})
	}
	if g.chance(0.1) && np.Spec.Egress == nil {
		np.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{}
	}
	return np
}

type genRule struct {
	ports []networkingv1.NetworkPolicyPort
	peers []networkingv1.NetworkPolicyPeer
}

// rules returns the rules of one direction: for an active direction mostly
// one to three rules, sometimes none; for an inactive one mostly none.
func (g *gen) rules(active bool) []genRule {
	n := 0
	switch {
	case active && g.chance(0.8):
		n = g.between(1, 3)
	case !active && g.chance(0.3):
		n = g.between(1, 2)
	}
	out := make([]genRule, n)
	for i := range out {
		r := &out[i]
		if roll := g.r.IntN(100); roll >= 40 {
			for range g.between(1, 2) {
				r.ports = append(r.ports, g.randomPort())
			}
		} else if roll < 5 {
			r.ports = []networkingv1.NetworkPolicyPort{}
		}
		if roll := g.r.IntN(100); roll >= 35 {
			for range g.between(1, 2) {
				r.peers = append(r.peers, g.randomPeer())
			}
		} else if roll < 5 {
			r.peers = []networkingv1.NetworkPolicyPeer{}
		}
	}
	return out
}

func (g *gen) randomPeer() networkingv1.NetworkPolicyPeer {
	nsKeysAll := append([]string{netpol.NamespaceNameLabel}, nsKeys...)
	nsValuesAll := append([]string{"x", "y", "z"}, nsValues...)
	nsSel := func() *metav1.LabelSelector {
		if g.chance(0.3) {
			return &metav1.LabelSelector{}
		}
		return g.randomSelector(nsKeysAll, nsValuesAll)
	}
	podSel := func() *metav1.LabelSelector {
		if g.chance(0.2) {
			return &metav1.LabelSelector{}
		}
		return g.randomSelector(podKeys, podValues)
	}
	switch roll := g.r.IntN(100); {
	case roll < 25:
		return networkingv1.NetworkPolicyPeer{PodSelector: podSel()}
	case roll < 45:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: nsSel()}
	case roll < 65:
		return networkingv1.NetworkPolicyPeer{PodSelector: podSel(), NamespaceSelector: nsSel()}
	}
	return networkingv1.NetworkPolicyPeer{IPBlock: g.randomIPBlock()}
}

// randomPort returns a numeric, named, protocol-only or range port, with
// the protocol set or left to default.
func (g *gen) randomPort() networkingv1.NetworkPolicyPort {
	var p networkingv1.NetworkPolicyPort
	if g.chance(0.7) {
		proto := pick(g, protocols)
		p.Protocol = &proto
	}
	num := pick(g, portPool).port
	switch roll := g.r.IntN(100); {
	case roll < 30:
		v := intstr.FromInt32(num)
		p.Port = &v
	case roll < 55:
		v := intstr.FromString(pick(g, portNames))
		p.Port = &v
	case roll < 70: // protocol only: every port of the protocol
	case roll < 90:
		v := intstr.FromInt32(num)
		end := min(num+pick(g, []int32{0, 1, 10, 1000, 65535}), 65535)
		p.Port, p.EndPort = &v, &end
	default:
		v := intstr.FromInt32(7) // no container has it
		p.Port = &v
	}
	return p
}

// fixedBlocks are CIDRs that cover all, some or none of the pods, the
// externals and the nodes.
var fixedBlocks = map[bool][]string{
	false: {"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.0.0.0/17", "192.0.2.0/24", "172.16.0.0/16"},
	true:  {"::/0", "fd00::/16", "fd00::/64", "2001:db8::/32", "fd01::/64"},
}

// knownAddresses are the addresses worth aiming an ipBlock at besides pods.
var knownAddresses = []string{"192.0.2.7", "2001:db8::7", "10.0.250.1", "fd00::fa:1", "172.16.0.1", "fd01::2"}

// randomIPBlock returns an IPv4 or IPv6 block, fixed or around a known
// address, sometimes with excepts strictly inside it.
func (g *gen) randomIPBlock() *networkingv1.IPBlock {
	v6 := g.chance(0.25)
	var anchors []netip.Addr
	for _, a := range g.addrs {
		if a.Is6() == v6 {
			anchors = append(anchors, a)
		}
	}
	for _, s := range knownAddresses {
		if a := netip.MustParseAddr(s); a.Is6() == v6 {
			anchors = append(anchors, a)
		}
	}
	cidr := netip.MustParsePrefix(pick(g, fixedBlocks[v6]))
	if g.chance(0.5) {
		bits := pick(g, []int{8, 16, 23, 24, 25, 30, 31, 32})
		if v6 {
			bits = pick(g, []int{16, 48, 64, 112, 120, 127, 128})
		}
		cidr = netip.PrefixFrom(pick(g, anchors), bits).Masked()
	}
	in := inside(anchors, cidr)
	b := &networkingv1.IPBlock{CIDR: g.spell(cidr, in)}
	maxBits := cidr.Addr().BitLen()
	if cidr.Bits() == maxBits || !g.chance(0.4) {
		return b
	}
	for range g.between(1, 2) {
		bits := pick(g, []int{cidr.Bits() + 1, min(cidr.Bits()+8, maxBits), maxBits})
		x := netip.PrefixFrom(pick(g, in), bits).Masked()
		b.Except = append(b.Except, g.spell(x, inside(in, x)))
	}
	return b
}

// inside returns the addresses of anchors that p holds, or p's own address.
func inside(anchors []netip.Addr, p netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, a := range anchors {
		if p.Contains(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = []netip.Addr{p.Addr()}
	}
	return out
}

// spell writes a prefix as users may: mostly canonical, sometimes with host
// bits set (an address of in, which the API server accepts and masks), and
// IPv6 sometimes in upper case.
func (g *gen) spell(p netip.Prefix, in []netip.Addr) string {
	s := p.String()
	if g.chance(0.15) {
		s = netip.PrefixFrom(pick(g, in), p.Bits()).String()
	}
	if p.Addr().Is6() && g.chance(0.2) {
		s = strings.ToUpper(s)
	}
	return s
}
