package graph_test

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
)

// t0 is the time of the test flows: flow(s, ...) happens s seconds later.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// ep parses a flow endpoint: "[who]@ip:port" where who is "ns/pod",
// "ns/" (a namespace, no pod), "reserved:NAME", optionally followed by
// "#identity" and "{k=v,...}" labels; "ip:port" alone is a bare address.
func ep(s string) netpol.FlowEndpoint {
	var e netpol.FlowEndpoint
	who, addr, found := strings.Cut(s, "@")
	if !found {
		if _, err := netip.ParseAddrPort(s); err == nil {
			who, addr = "", s
		} else {
			who, addr = s, ""
		}
	}
	if i := strings.Index(who, "{"); i >= 0 {
		e.Labels = netpoltest.Labels(strings.TrimSuffix(who[i+1:], "}"))
		who = who[:i]
	}
	if i := strings.Index(who, "#"); i >= 0 {
		id, _ := strconv.Atoi(who[i+1:])
		e.Identity = uint32(id)
		who = who[:i]
	}
	switch {
	case strings.HasPrefix(who, "reserved:"):
		e.Reserved = netpol.Reserved(strings.TrimPrefix(who, "reserved:"))
	case who != "":
		e.Namespace, e.Pod, _ = strings.Cut(who, "/")
	}
	if addr != "" {
		ap := netip.MustParseAddrPort(addr)
		e.IP, e.Port = ap.Addr(), ap.Port()
	}
	return e
}

// flow returns a forwarded, non-reply TCP flow at t0+ms milliseconds.
func flow(ms int, src, dst string, mods ...func(*netpol.Flow)) *netpol.Flow {
	f := &netpol.Flow{
		Time: t0.Add(time.Duration(ms) * time.Millisecond), Source: ep(src), Destination: ep(dst),
		Protocol: netpol.ProtocolTCP, Verdict: netpol.Forwarded, Reply: netpol.No,
	}
	for _, m := range mods {
		m(f)
	}
	return f
}

func dropped(f *netpol.Flow)      { f.Verdict = netpol.Dropped }
func reply(f *netpol.Flow)        { f.Reply = netpol.Yes }
func replyUnknown(f *netpol.Flow) { f.Reply = netpol.Unknown }
func udp(f *netpol.Flow)          { f.Protocol = netpol.ProtocolUDP }
func noL4(f *netpol.Flow)         { f.Protocol = netpol.ProtocolUnknown }
func observer(node string) func(*netpol.Flow) {
	return func(f *netpol.Flow) { f.Node = node }
}

func deploy(id string) graph.Node { return node(graph.KindDeployment, id) }
func pod(id string) graph.Node    { return node(graph.KindPod, id) }
func node(k graph.Kind, id string) graph.Node {
	ns, name, _ := strings.Cut(id, "/")
	return graph.WorkloadNode(k, ns, name)
}
func external(ip string) graph.Node         { return graph.ExternalNode(netip.MustParseAddr(ip)) }
func reserved(r netpol.Reserved) graph.Node { return graph.ReservedNode(r) }

// owned returns pod with a controller owner reference "Kind/name".
func owned(p corev1.Pod, owner string) corev1.Pod {
	kind, name, _ := strings.Cut(owner, "/")
	yes := true
	p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{Kind: kind, Name: name, Controller: &yes})
	return p
}

// workload returns a workload "Kind:ns/name" owned by owner ("Kind/name",
// "" for none), with template labels.
func workload(id, owner, labels string, ports ...corev1.ContainerPort) netpol.Workload {
	kind, rest, _ := strings.Cut(id, ":")
	ns, name, _ := strings.Cut(rest, "/")
	w := netpol.Workload{Kind: kind, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	w.Template.Labels = netpoltest.Labels(labels)
	w.Template.Spec.Containers = []corev1.Container{{Name: "main", Ports: ports}}
	if owner != "" {
		okind, oname, _ := strings.Cut(owner, "/")
		yes := true
		w.OwnerReferences = []metav1.OwnerReference{{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: okind, Name: oname, Controller: &yes}}
	}
	return w
}
