package hubble

import (
	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// fastDecoder decodes the common shapes of Hubble JSON lines without
// protojson: it scans the line once, validates every member it meets the
// way protojson would, and fills a reused flowpb.Flow with the fields that
// convertFlow reads, so the one conversion function serves both decoders.
// Whatever it does not know (unknown keys, null, escapes it does not
// handle, lost events, node status...) makes decode return ok=false; the
// caller then uses protojson, which accepts or rejects the line. The fast
// decoder therefore never rejects a line, and a line it accepts decodes as
// protojson decodes it (TestDifferential, FuzzDecode).
type fastDecoder struct {
	s  scanner
	in interner
	sc fastScratch
	// endpoints caches decoded endpoints by their exact JSON: the source
	// and destination objects repeat in flow after flow.
	endpoints map[string]*flowpb.Endpoint
}

// endpointCacheSize bounds fastDecoder.endpoints; when full it starts over.
const endpointCacheSize = 1 << 14

// fastScratch holds the reused messages of one decoded line.
type fastScratch struct {
	respTime, flowTime timestamppb.Timestamp
	flow               flowpb.Flow
	ip                 flowpb.IP
	l4                 flowpb.Layer4
	tcp                flowpb.TCP
	udp                flowpb.UDP
	sctp               flowpb.SCTP
	icmp4              flowpb.ICMPv4
	icmp6              flowpb.ICMPv6
	l4tcp              flowpb.Layer4_TCP
	l4udp              flowpb.Layer4_UDP
	l4sctp             flowpb.Layer4_SCTP
	l4icmp4            flowpb.Layer4_ICMPv4
	l4icmp6            flowpb.Layer4_ICMPv6
	l7                 flowpb.Layer7
	dns                flowpb.DNS
	l7dns              flowpb.Layer7_Dns
	isReply            wrapperspb.BoolValue
	dnsIPs, destNames  []string
}

// decode decodes line, a GetFlowsResponse with a flow or a bare Flow. On
// success it returns the flow and the envelope's node name and time (empty
// and nil for a bare flow). The results are valid until the next call.
func (d *fastDecoder) decode(line []byte) (f *flowpb.Flow, node string, at *timestamppb.Timestamp, ok bool) {
	d.s = scanner{b: line, tmp: d.s.tmp}
	if f, node, at, ok := d.response(); ok {
		return f, node, at, true
	}
	d.s.i = 0
	d.sc.flow = flowpb.Flow{}
	if !d.flow(&d.sc.flow) || !d.s.end() {
		return nil, "", nil, false
	}
	return &d.sc.flow, "", nil, true
}

// response decodes a GetFlowsResponse whose member is a flow. A line
// without "flow" is not one: protojson reads it as a bare Flow, so must we.
func (d *fastDecoder) response() (f *flowpb.Flow, node string, at *timestamppb.Timestamp, ok bool) {
	s := &d.s
	if !s.open('{') {
		return nil, "", nil, false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, responseKey, &seen)
		if !ok {
			return nil, "", nil, false
		}
		if !more {
			break
		}
		switch id {
		case rFlow:
			d.sc.flow = flowpb.Flow{}
			f = &d.sc.flow
			ok = d.flow(f)
		case rNodeName:
			var b []byte
			b, ok = s.str()
			node = d.in.get(b)
		case rTime:
			at = &d.sc.respTime
			ok = d.timestamp(at)
		}
		if !ok {
			return nil, "", nil, false
		}
	}
	if f == nil || !s.end() {
		return nil, "", nil, false
	}
	return f, node, at, true
}

// member moves to the next member of an object and reads its key: id is
// the key's field id in keys. Unknown and repeated keys are not ok.
func (d *fastDecoder) member(first bool, keys func([]byte) int, seen *uint64) (id int, more, ok bool) {
	more, ok = d.s.next(first, '}')
	if !ok || !more {
		return 0, more, ok
	}
	k, ok := d.s.key()
	if !ok {
		return 0, false, false
	}
	id = keys(k)
	if id == 0 || *seen&(1<<id) != 0 {
		return 0, false, false
	}
	*seen |= 1 << id
	return id, true, true
}

// flow decodes a Flow object into f.
func (d *fastDecoder) flow(f *flowpb.Flow) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, flowKey, &seen)
		if !ok || !more {
			return ok
		}
		if !d.flowField(f, id) {
			return false
		}
	}
}

// flowField decodes the value of the Flow field id.
func (d *fastDecoder) flowField(f *flowpb.Flow, id int) bool {
	s, sc := &d.s, &d.sc
	var ok bool
	switch id {
	case fTime:
		f.Time = &sc.flowTime
		return d.timestamp(f.Time)
	case fVerdict:
		var v int32
		v, ok = s.enum(flowpb.Verdict_value)
		f.Verdict = flowpb.Verdict(v)
		return ok
	case fIP:
		f.IP = &sc.ip
		return d.ip(f.IP)
	case fL4:
		f.L4 = &sc.l4
		return d.l4(f.L4)
	case fSource:
		f.Source = d.cachedEndpoint()
		return f.Source != nil
	case fDestination:
		f.Destination = d.cachedEndpoint()
		return f.Destination != nil
	case fNodeName:
		var b []byte
		b, ok = s.str()
		f.NodeName = d.in.get(b)
		return ok
	case fDestinationNames:
		sc.destNames, ok = s.strings(sc.destNames[:0], &d.in)
		f.DestinationNames = sc.destNames
		return ok
	case fL7:
		f.L7 = &sc.l7
		return d.l7(f.L7)
	case fReply:
		f.Reply, ok = s.boolean()
		return ok
	case fIsReply:
		sc.isReply = wrapperspb.BoolValue{}
		sc.isReply.Value, ok = s.boolean()
		f.IsReply = &sc.isReply
		return ok
	}
	return d.skipFlowField(id)
}

// skipFlowField validates the value of a Flow field that convertFlow does
// not read.
func (d *fastDecoder) skipFlowField(id int) bool {
	s := &d.s
	switch id {
	case fUUID, fSummary:
		return s.skipString()
	case fEmitter:
		return d.stringObject(nameVersionKey)
	case fDropReason, fPolicyMatchType, fProxyPort:
		_, ok := s.u32()
		return ok
	case fAuthType:
		return d.skipEnum(flowpb.AuthType_value)
	case fEthernet:
		return d.stringObject(ethernetKey)
	case fType:
		return d.skipEnum(flowpb.FlowType_value)
	case fNodeLabels, fSourceNames, fPolicyLog:
		return s.skipStrings()
	case fEventType:
		return d.eventType()
	case fSourceService, fDestinationService:
		return d.stringObject(nameNamespaceKey)
	case fTrafficDirection:
		return d.skipEnum(flowpb.TrafficDirection_value)
	case fTraceObservationPoint:
		return d.skipEnum(flowpb.TraceObservationPoint_value)
	case fTraceReason:
		return d.skipEnum(flowpb.TraceReason_value)
	case fDropReasonDesc:
		return d.skipEnum(flowpb.DropReason_value)
	case fDebugCapturePoint:
		return d.skipEnum(flowpb.DebugCapturePoint_value)
	case fInterface:
		return d.networkInterface()
	case fSockXlatePoint:
		return d.skipEnum(flowpb.SocketTranslationPoint_value)
	case fSocketCookie, fCgroupID:
		_, ok := s.uint(1<<64 - 1)
		return ok
	case fEgressAllowedBy, fIngressAllowedBy, fEgressDeniedBy, fIngressDeniedBy:
		return d.policies()
	}
	return false
}

// skipEnum validates an enum value name.
func (d *fastDecoder) skipEnum(values map[string]int32) bool {
	_, ok := d.s.enum(values)
	return ok
}

// timestamp decodes a google.protobuf.Timestamp string into t.
func (d *fastDecoder) timestamp(t *timestamppb.Timestamp) bool {
	b, ok := d.s.str()
	if !ok {
		return false
	}
	sec, nsec, ok := parseTimestamp(b)
	*t = timestamppb.Timestamp{}
	t.Seconds, t.Nanos = sec, nsec
	return ok
}
