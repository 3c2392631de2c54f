package hubble

import (
	"math"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// ip decodes an IP header.
func (d *fastDecoder) ip(ip *flowpb.IP) bool {
	s := &d.s
	*ip = flowpb.IP{}
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, ipKey, &seen)
		if !ok || !more {
			return ok
		}
		var b []byte
		switch id {
		case kSource:
			b, ok = s.str()
			ip.Source = d.in.get(b)
		case kDestination:
			b, ok = s.str()
			ip.Destination = d.in.get(b)
		case kSourceXlated:
			ok = s.skipString()
		case kIPVersion:
			ok = d.skipEnum(enumIPVersion)
		case kEncrypted:
			_, ok = s.boolean()
		}
		if !ok {
			return false
		}
	}
}

// l4 decodes a Layer4 oneof: at most one member.
func (d *fastDecoder) l4(l4 *flowpb.Layer4) bool {
	s, sc := &d.s, &d.sc
	*l4 = flowpb.Layer4{}
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, l4Key, &seen)
		if !ok || !more {
			return ok
		}
		if l4.Protocol != nil {
			return false // a second member of the oneof
		}
		switch id {
		case l4TCP:
			sc.tcp = flowpb.TCP{}
			sc.l4tcp.TCP = &sc.tcp
			l4.Protocol = &sc.l4tcp
			ok = d.ports(&sc.tcp.SourcePort, &sc.tcp.DestinationPort, true, false)
		case l4UDP:
			sc.udp = flowpb.UDP{}
			sc.l4udp.UDP = &sc.udp
			l4.Protocol = &sc.l4udp
			ok = d.ports(&sc.udp.SourcePort, &sc.udp.DestinationPort, false, false)
		case l4SCTP:
			sc.sctp = flowpb.SCTP{}
			sc.l4sctp.SCTP = &sc.sctp
			l4.Protocol = &sc.l4sctp
			ok = d.ports(&sc.sctp.SourcePort, &sc.sctp.DestinationPort, false, true)
		case l4ICMPv4:
			sc.icmp4 = flowpb.ICMPv4{}
			sc.l4icmp4.ICMPv4 = &sc.icmp4
			l4.Protocol = &sc.l4icmp4
			ok = d.u32Object(icmpKey)
		case l4ICMPv6:
			sc.icmp6 = flowpb.ICMPv6{}
			sc.l4icmp6.ICMPv6 = &sc.icmp6
			l4.Protocol = &sc.l4icmp6
			ok = d.u32Object(icmpKey)
		}
		if !ok {
			return false
		}
	}
}

// ports decodes TCP (with flags), UDP or SCTP (with a chunk type).
func (d *fastDecoder) ports(src, dst *uint32, flags, chunk bool) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, portKey, &seen)
		if !ok || !more {
			return ok
		}
		switch {
		case id == pSourcePort:
			*src, ok = s.u32()
		case id == pDestinationPort:
			*dst, ok = s.u32()
		case id == pFlags && flags:
			ok = d.boolObject(tcpFlagKey)
		case id == pChunkType && chunk:
			ok = d.skipEnum(enumSCTPChunkType)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

// cachedEndpoint returns the Endpoint object at the scanner, from the
// cache when the same bytes were decoded before.
func (d *fastDecoder) cachedEndpoint() *flowpb.Endpoint {
	if d.s.peek() != '{' {
		return nil
	}
	rest := d.s.b[d.s.i:]
	if ep, n := d.endpoints.lookup(rest); ep != nil {
		d.s.i += n
		return ep
	}
	start := d.s.i
	ep := d.endpoint()
	if ep == nil {
		return nil
	}
	d.endpoints.add(rest, d.s.b[start:d.s.i], ep)
	return ep
}

// endpoint decodes a new Endpoint, or returns nil.
func (d *fastDecoder) endpoint() *flowpb.Endpoint {
	s, ep := &d.s, &flowpb.Endpoint{}
	if !s.open('{') {
		return nil
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, endpointKey, &seen)
		if !ok {
			return nil
		}
		if !more {
			return ep
		}
		var b []byte
		switch id {
		case eID:
			ep.ID, ok = s.u32()
		case eIdentity:
			ep.Identity, ok = s.u32()
		case eClusterName:
			ok = s.skipString()
		case eNamespace:
			b, ok = s.str()
			ep.Namespace = d.in.get(b)
		case eLabels:
			ep.Labels, ok = s.strings(nil, &d.in)
		case ePodName:
			b, ok = s.str()
			ep.PodName = d.in.get(b)
		case eWorkloads:
			ep.Workloads, ok = d.workloads()
		}
		if !ok {
			return nil
		}
	}
}

// workloads decodes the workloads array of an endpoint.
func (d *fastDecoder) workloads() ([]*flowpb.Workload, bool) {
	s := &d.s
	if !s.open('[') {
		return nil, false
	}
	var out []*flowpb.Workload
	for first := true; ; first = false {
		more, ok := s.next(first, ']')
		if !ok {
			return nil, false
		}
		if !more {
			return out, true
		}
		var w [2]string
		if !d.internObject(nameKindKey, w[:]) {
			return nil, false
		}
		out = append(out, &flowpb.Workload{Name: w[0], Kind: w[1]})
	}
}

// l7 decodes a Layer7 record: dns is kept, http is validated.
func (d *fastDecoder) l7(l7 *flowpb.Layer7) bool {
	s, sc := &d.s, &d.sc
	*l7 = flowpb.Layer7{}
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, l7Key, &seen)
		if !ok || !more {
			return ok
		}
		switch id {
		case l7Type:
			ok = d.skipEnum(enumL7FlowType)
		case l7Latency:
			_, ok = s.uint(math.MaxUint64)
		case l7DNS:
			ok = seen&(1<<l7HTTP) == 0 && d.dns(&sc.dns)
			sc.l7dns.Dns = &sc.dns
			l7.Record = &sc.l7dns
		case l7HTTP:
			ok = seen&(1<<l7DNS) == 0 && d.http()
		}
		if !ok {
			return false
		}
	}
}

// dns decodes a DNS record.
func (d *fastDecoder) dns(m *flowpb.DNS) bool {
	s, sc := &d.s, &d.sc
	*m = flowpb.DNS{}
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, dnsKey, &seen)
		if !ok || !more {
			return ok
		}
		switch id {
		case dQuery:
			var b []byte
			b, ok = s.str()
			m.Query = d.in.get(b)
		case dIPs:
			sc.dnsIPs, ok = s.strings(sc.dnsIPs[:0], &d.in)
			m.Ips = sc.dnsIPs
		case dTTL, dRcode:
			_, ok = s.u32()
		case dObservationSource:
			ok = s.skipString()
		case dCnames, dQtypes, dRrtypes:
			ok = s.skipStrings()
		}
		if !ok {
			return false
		}
	}
}

// http validates an HTTP record.
func (d *fastDecoder) http() bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, httpKey, &seen)
		if !ok || !more {
			return ok
		}
		switch id {
		case hCode:
			_, ok = s.u32()
		case hMethod, hURL, hProtocol:
			ok = s.skipString()
		case hHeaders:
			ok = d.objects(keyValueKey, d.stringObject)
		}
		if !ok {
			return false
		}
	}
}
