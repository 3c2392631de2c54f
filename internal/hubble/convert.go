package hubble

import (
	"fmt"
	"net/netip"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/netpol/netpol"
)

// recordKind says what one Hubble record was.
type recordKind uint8

const (
	// recFlow is a flow that was converted.
	recFlow recordKind = iota
	// recLostEvents is a lost_events notice.
	recLostEvents
	// recNodeStatus is a node_status notice from Relay.
	recNodeStatus
	// recNonIP is a flow without IP addresses (ARP and other L2 traffic).
	recNonIP
	// recBlank is an empty line.
	recBlank
)

// skipName is the SourceStats.Skipped key of each skipped kind.
var skipName = [...]string{
	recLostEvents: "lost-events",
	recNodeStatus: "node-status",
	recNonIP:      "non-ip",
}

// convertFlow is the one function that turns a Hubble flow into a
// netpol.Flow. node and at are the node name and time of the envelope
// (GetFlowsResponse), used when the flow itself has none. Label maps come
// from lc and are shared between flows. It returns recNonIP for flows
// without IP addresses and an error for addresses that do not parse.
func convertFlow(f *flowpb.Flow, node string, at *timestamppb.Timestamp, out *netpol.Flow, lc *labelCache) (recordKind, error) {
	ip := f.GetIP()
	if ip.GetSource() == "" && ip.GetDestination() == "" {
		return recNonIP, nil
	}
	src, err := parseIP("source", ip.GetSource())
	if err != nil {
		return recFlow, err
	}
	dst, err := parseIP("destination", ip.GetDestination())
	if err != nil {
		return recFlow, err
	}
	*out = netpol.Flow{Node: f.GetNodeName()}
	if out.Node == "" {
		out.Node = node
	}
	if t := f.GetTime(); t != nil {
		out.Time = t.AsTime()
	} else if at != nil {
		out.Time = at.AsTime()
	}
	out.Source = convertEndpoint(f.GetSource(), src, out.Node, lc)
	out.Destination = convertEndpoint(f.GetDestination(), dst, out.Node, lc)
	out.Protocol, out.Source.Port, out.Destination.Port = convertL4(f.GetL4())
	out.Verdict = convertVerdict(f.GetVerdict())
	out.Reply = convertReply(f)
	out.DNS, err = convertDNS(f, dst)
	return recFlow, err
}

// parseIP parses one address of the IP header; empty is the zero Addr.
func parseIP(side, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("invalid %s IP %q", side, s)
	}
	return a, nil
}

// convertL4 returns the protocol and the source and destination ports.
// ICMPv4 and ICMPv6 are ProtocolICMP without ports; VRRP, IGMP and a
// missing L4 header are ProtocolUnknown.
func convertL4(l4 *flowpb.Layer4) (netpol.Protocol, uint16, uint16) {
	switch p := l4.GetProtocol().(type) {
	case *flowpb.Layer4_TCP:
		return netpol.ProtocolTCP, uint16(p.TCP.GetSourcePort()), uint16(p.TCP.GetDestinationPort())
	case *flowpb.Layer4_UDP:
		return netpol.ProtocolUDP, uint16(p.UDP.GetSourcePort()), uint16(p.UDP.GetDestinationPort())
	case *flowpb.Layer4_SCTP:
		return netpol.ProtocolSCTP, uint16(p.SCTP.GetSourcePort()), uint16(p.SCTP.GetDestinationPort())
	case *flowpb.Layer4_ICMPv4, *flowpb.Layer4_ICMPv6:
		return netpol.ProtocolICMP, 0, 0
	}
	return netpol.ProtocolUnknown, 0, 0
}

// convertVerdict maps FORWARDED, DROPPED, AUDIT and REDIRECTED; ERROR,
// TRACED, TRANSLATED and unknown verdicts are FlowVerdictUnknown.
func convertVerdict(v flowpb.Verdict) netpol.FlowVerdict {
	switch v {
	case flowpb.Verdict_FORWARDED:
		return netpol.Forwarded
	case flowpb.Verdict_DROPPED:
		return netpol.Dropped
	case flowpb.Verdict_AUDIT:
		return netpol.Audit
	case flowpb.Verdict_REDIRECTED:
		return netpol.Redirected
	}
	return netpol.FlowVerdictUnknown
}

// convertReply reads is_reply (newer agents, a BoolValue that is absent
// when the agent did not know) and else the deprecated reply (older
// agents). reply=false is indistinguishable from absent, so it is Unknown.
func convertReply(f *flowpb.Flow) netpol.Tri {
	if r := f.GetIsReply(); r != nil {
		if r.GetValue() {
			return netpol.Yes
		}
		return netpol.No
	}
	if f.GetReply() {
		return netpol.Yes
	}
	return netpol.Unknown
}

// convertDNS takes the query and answers of an l7.dns record, or else the
// first of destination_names (the names the destination IP was resolved
// from), answered by the destination IP. Trailing dots are trimmed.
func convertDNS(f *flowpb.Flow, dst netip.Addr) (*netpol.DNS, error) {
	if d := f.GetL7().GetDns(); d != nil {
		out := &netpol.DNS{Query: strings.TrimSuffix(d.GetQuery(), ".")}
		for _, s := range d.GetIps() {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("invalid DNS answer IP %q", s)
			}
			out.Answers = append(out.Answers, a)
		}
		return out, nil
	}
	if names := f.GetDestinationNames(); len(names) > 0 && dst.IsValid() {
		return &netpol.DNS{Query: strings.TrimSuffix(names[0], "."), Answers: []netip.Addr{dst}}, nil
	}
	return nil, nil
}

// convertEndpoint fills one side. Node is the observing node when the
// endpoint is local to it (a Cilium endpoint ID, or the host identity).
func convertEndpoint(e *flowpb.Endpoint, ip netip.Addr, node string, lc *labelCache) netpol.FlowEndpoint {
	ls := lc.get(e.GetLabels())
	out := netpol.FlowEndpoint{
		IP:        ip,
		Namespace: e.GetNamespace(),
		Pod:       e.GetPodName(),
		Labels:    ls.labels,
		Reserved:  ls.reserved,
		Identity:  e.GetIdentity(),
	}
	if out.Namespace == "" {
		out.Namespace = ls.namespace
	}
	if out.Reserved == netpol.ReservedNone {
		out.Reserved = reservedIdentity(out.Identity)
	}
	if wl := e.GetWorkloads(); len(wl) > 0 {
		out.Workload = netpol.WorkloadRef{Namespace: out.Namespace, Kind: wl[0].GetKind(), Name: wl[0].GetName()}
	}
	if e.GetID() != 0 || out.Reserved == netpol.ReservedHost {
		out.Node = node
	}
	return out
}

// reservedIdentity maps Cilium's fixed reserved identity numbers, for
// endpoints that come without labels.
func reservedIdentity(id uint32) netpol.Reserved {
	switch id {
	case 1:
		return netpol.ReservedHost
	case 2, 9, 10:
		return netpol.ReservedWorld
	case 3:
		return "unmanaged"
	case 4:
		return "health"
	case 5:
		return "init"
	case 6:
		return netpol.ReservedRemoteNode
	case 7:
		return netpol.ReservedKubeAPIServer
	case 8:
		return "ingress"
	}
	return netpol.ReservedNone
}
