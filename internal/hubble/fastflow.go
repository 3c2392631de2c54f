package hubble

import (
	"bytes"

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
	// endpoints caches decoded endpoints by their exact JSON.
	endpoints endpointCache
	// lastTime is the last timestamp parsed.
	lastTime struct {
		text []byte
		sec  int64
		nsec int32
	}
	// enumLast is the last name read of each enum, and its number.
	enumLast [numEnums]struct {
		name string
		v    int32
	}
}

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
		v, ok = d.enum(enumVerdict)
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
		return d.skipEnum(enumAuthType)
	case fEthernet:
		return d.stringObject(ethernetKey)
	case fType:
		return d.skipEnum(enumFlowType)
	case fNodeLabels, fSourceNames, fPolicyLog:
		return s.skipStrings()
	case fEventType:
		return d.eventType()
	case fSourceService, fDestinationService:
		return d.stringObject(nameNamespaceKey)
	case fTrafficDirection:
		return d.skipEnum(enumTrafficDirection)
	case fTraceObservationPoint:
		return d.skipEnum(enumTraceObservationPoint)
	case fTraceReason:
		return d.skipEnum(enumTraceReason)
	case fDropReasonDesc:
		return d.skipEnum(enumDropReason)
	case fDebugCapturePoint:
		return d.skipEnum(enumDebugCapturePoint)
	case fInterface:
		return d.networkInterface()
	case fSockXlatePoint:
		return d.skipEnum(enumSockXlatePoint)
	case fSocketCookie, fCgroupID:
		_, ok := s.uint(1<<64 - 1)
		return ok
	case fEgressAllowedBy, fIngressAllowedBy, fEgressDeniedBy, fIngressDeniedBy:
		return d.policies()
	}
	return false
}

// enumKind names the enums of flow.proto that the fast decoder reads.
type enumKind uint8

const (
	enumVerdict enumKind = iota
	enumAuthType
	enumFlowType
	enumTrafficDirection
	enumTraceObservationPoint
	enumTraceReason
	enumDropReason
	enumDebugCapturePoint
	enumSockXlatePoint
	enumIPVersion
	enumSCTPChunkType
	enumL7FlowType
	numEnums
)

// enumValues are the generated name-to-number maps of each enum.
var enumValues = [numEnums]map[string]int32{
	enumVerdict:               flowpb.Verdict_value,
	enumAuthType:              flowpb.AuthType_value,
	enumFlowType:              flowpb.FlowType_value,
	enumTrafficDirection:      flowpb.TrafficDirection_value,
	enumTraceObservationPoint: flowpb.TraceObservationPoint_value,
	enumTraceReason:           flowpb.TraceReason_value,
	enumDropReason:            flowpb.DropReason_value,
	enumDebugCapturePoint:     flowpb.DebugCapturePoint_value,
	enumSockXlatePoint:        flowpb.SocketTranslationPoint_value,
	enumIPVersion:             flowpb.IPVersion_value,
	enumSCTPChunkType:         flowpb.SCTPChunkType_value,
	enumL7FlowType:            flowpb.L7FlowType_value,
}

// enum reads the name of a value of enum k (see scanner.name), checking
// the last name seen for k before the map.
func (d *fastDecoder) enum(k enumKind) (int32, bool) {
	b, ok := d.s.name()
	if !ok {
		return 0, false
	}
	last := &d.enumLast[k]
	if last.name != "" && string(b) == last.name {
		return last.v, true
	}
	v, ok := enumValues[k][string(b)]
	if ok {
		last.name, last.v = d.in.get(b), v
	}
	return v, ok
}

// skipEnum validates a value of enum k.
func (d *fastDecoder) skipEnum(k enumKind) bool {
	_, ok := d.enum(k)
	return ok
}

// timestamp decodes a google.protobuf.Timestamp string into t. A line
// usually carries the same time twice (flow and envelope): the last
// string parsed is remembered.
func (d *fastDecoder) timestamp(t *timestamppb.Timestamp) bool {
	b, ok := d.s.str()
	if !ok {
		return false
	}
	last := &d.lastTime
	if !bytes.Equal(b, last.text) {
		last.sec, last.nsec, ok = parseTimestamp(b)
		if !ok {
			last.text = last.text[:0]
			return false
		}
		last.text = append(last.text[:0], b...)
	}
	*t = timestamppb.Timestamp{Seconds: last.sec, Nanos: last.nsec}
	return true
}
