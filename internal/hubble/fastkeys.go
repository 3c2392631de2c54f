package hubble

// The fast decoder looks object keys up with these functions (a switch is
// several times faster than a map here): each key, in its proto spelling
// and its JSON (lowerCamel) spelling, maps to a field id that is also the
// bit used to detect duplicate fields; 0 is an unknown key, which sends the
// line to protojson. TestFastKeys checks them against the descriptors.

// Fields of flow.Flow.
const (
	fTime = iota + 1
	fUUID
	fEmitter
	fVerdict
	fDropReason
	fAuthType
	fEthernet
	fIP
	fL4
	fSource
	fDestination
	fType
	fNodeName
	fNodeLabels
	fSourceNames
	fDestinationNames
	fL7
	fReply
	fEventType
	fSourceService
	fDestinationService
	fTrafficDirection
	fPolicyMatchType
	fTraceObservationPoint
	fTraceReason
	fDropReasonDesc
	fIsReply
	fDebugCapturePoint
	fInterface
	fProxyPort
	fSockXlatePoint
	fSocketCookie
	fCgroupID
	fSummary
	fEgressAllowedBy
	fIngressAllowedBy
	fEgressDeniedBy
	fIngressDeniedBy
	fPolicyLog
)

func flowKey(k []byte) int {
	switch string(k) {
	case "time":
		return fTime
	case "uuid":
		return fUUID
	case "emitter":
		return fEmitter
	case "verdict":
		return fVerdict
	case "drop_reason", "dropReason":
		return fDropReason
	case "auth_type", "authType":
		return fAuthType
	case "ethernet":
		return fEthernet
	case "IP":
		return fIP
	case "l4":
		return fL4
	case "source":
		return fSource
	case "destination":
		return fDestination
	case "Type":
		return fType
	case "node_name", "nodeName":
		return fNodeName
	case "node_labels", "nodeLabels":
		return fNodeLabels
	case "source_names", "sourceNames":
		return fSourceNames
	case "destination_names", "destinationNames":
		return fDestinationNames
	case "l7":
		return fL7
	case "reply":
		return fReply
	case "event_type", "eventType":
		return fEventType
	case "source_service", "sourceService":
		return fSourceService
	case "destination_service", "destinationService":
		return fDestinationService
	case "traffic_direction", "trafficDirection":
		return fTrafficDirection
	case "policy_match_type", "policyMatchType":
		return fPolicyMatchType
	case "trace_observation_point", "traceObservationPoint":
		return fTraceObservationPoint
	case "trace_reason", "traceReason":
		return fTraceReason
	case "drop_reason_desc", "dropReasonDesc":
		return fDropReasonDesc
	case "is_reply", "isReply":
		return fIsReply
	case "debug_capture_point", "debugCapturePoint":
		return fDebugCapturePoint
	case "interface":
		return fInterface
	case "proxy_port", "proxyPort":
		return fProxyPort
	case "sock_xlate_point", "sockXlatePoint":
		return fSockXlatePoint
	case "socket_cookie", "socketCookie":
		return fSocketCookie
	case "cgroup_id", "cgroupId":
		return fCgroupID
	case "Summary":
		return fSummary
	case "egress_allowed_by", "egressAllowedBy":
		return fEgressAllowedBy
	case "ingress_allowed_by", "ingressAllowedBy":
		return fIngressAllowedBy
	case "egress_denied_by", "egressDeniedBy":
		return fEgressDeniedBy
	case "ingress_denied_by", "ingressDeniedBy":
		return fIngressDeniedBy
	case "policy_log", "policyLog":
		return fPolicyLog
	}
	return 0
}

// Fields of the smaller messages; ids are per message.
const (
	kSource = iota + 1
	kDestination
	kSourceXlated
	kIPVersion
	kEncrypted
)

func ipKey(k []byte) int {
	switch string(k) {
	case "source":
		return kSource
	case "destination":
		return kDestination
	case "source_xlated", "sourceXlated":
		return kSourceXlated
	case "ipVersion":
		return kIPVersion
	case "encrypted":
		return kEncrypted
	}
	return 0
}

func ethernetKey(k []byte) int {
	switch string(k) {
	case "source":
		return kSource
	case "destination":
		return kDestination
	}
	return 0
}

// Layer4 members (a oneof: at most one may appear).
const (
	l4TCP = iota + 1
	l4UDP
	l4ICMPv4
	l4ICMPv6
	l4SCTP
)

func l4Key(k []byte) int {
	switch string(k) {
	case "TCP":
		return l4TCP
	case "UDP":
		return l4UDP
	case "ICMPv4":
		return l4ICMPv4
	case "ICMPv6":
		return l4ICMPv6
	case "SCTP":
		return l4SCTP
	}
	return 0
}

// Fields of TCP, UDP and SCTP.
const (
	pSourcePort = iota + 1
	pDestinationPort
	pFlags
	pChunkType
)

func portKey(k []byte) int {
	switch string(k) {
	case "source_port", "sourcePort":
		return pSourcePort
	case "destination_port", "destinationPort":
		return pDestinationPort
	case "flags":
		return pFlags
	case "chunk_type", "chunkType":
		return pChunkType
	}
	return 0
}

// tcpFlagKey are the booleans of TCPFlags.
func tcpFlagKey(k []byte) int {
	switch string(k) {
	case "FIN":
		return 1
	case "SYN":
		return 2
	case "RST":
		return 3
	case "PSH":
		return 4
	case "ACK":
		return 5
	case "URG":
		return 6
	case "ECE":
		return 7
	case "CWR":
		return 8
	case "NS":
		return 9
	}
	return 0
}

// icmpKey are the fields of ICMPv4 and ICMPv6.
func icmpKey(k []byte) int {
	switch string(k) {
	case "type":
		return 1
	case "code":
		return 2
	}
	return 0
}

// Fields of Endpoint.
const (
	eID = iota + 1
	eIdentity
	eClusterName
	eNamespace
	eLabels
	ePodName
	eWorkloads
)

func endpointKey(k []byte) int {
	switch string(k) {
	case "ID":
		return eID
	case "identity":
		return eIdentity
	case "cluster_name", "clusterName":
		return eClusterName
	case "namespace":
		return eNamespace
	case "labels":
		return eLabels
	case "pod_name", "podName":
		return ePodName
	case "workloads":
		return eWorkloads
	}
	return 0
}

// nameKindKey are the fields of Workload; nameNamespaceKey of Service;
// nameVersionKey of Emitter; indexNameKey of NetworkInterface.
func nameKindKey(k []byte) int {
	switch string(k) {
	case "name":
		return 1
	case "kind":
		return 2
	}
	return 0
}

func nameNamespaceKey(k []byte) int {
	switch string(k) {
	case "name":
		return 1
	case "namespace":
		return 2
	}
	return 0
}

func nameVersionKey(k []byte) int {
	switch string(k) {
	case "name":
		return 1
	case "version":
		return 2
	}
	return 0
}

func indexNameKey(k []byte) int {
	switch string(k) {
	case "index":
		return 1
	case "name":
		return 2
	}
	return 0
}

// Fields of Layer7 (dns and http form a oneof).
const (
	l7Type = iota + 1
	l7Latency
	l7DNS
	l7HTTP
)

func l7Key(k []byte) int {
	switch string(k) {
	case "type":
		return l7Type
	case "latency_ns", "latencyNs":
		return l7Latency
	case "dns":
		return l7DNS
	case "http":
		return l7HTTP
	}
	return 0
}

// Fields of DNS.
const (
	dQuery = iota + 1
	dIPs
	dTTL
	dCnames
	dObservationSource
	dRcode
	dQtypes
	dRrtypes
)

func dnsKey(k []byte) int {
	switch string(k) {
	case "query":
		return dQuery
	case "ips":
		return dIPs
	case "ttl":
		return dTTL
	case "cnames":
		return dCnames
	case "observation_source", "observationSource":
		return dObservationSource
	case "rcode":
		return dRcode
	case "qtypes":
		return dQtypes
	case "rrtypes":
		return dRrtypes
	}
	return 0
}

// Fields of HTTP.
const (
	hCode = iota + 1
	hMethod
	hURL
	hProtocol
	hHeaders
)

func httpKey(k []byte) int {
	switch string(k) {
	case "code":
		return hCode
	case "method":
		return hMethod
	case "url":
		return hURL
	case "protocol":
		return hProtocol
	case "headers":
		return hHeaders
	}
	return 0
}

// keyValueKey are the fields of HTTPHeader.
func keyValueKey(k []byte) int {
	switch string(k) {
	case "key":
		return 1
	case "value":
		return 2
	}
	return 0
}

// eventTypeKey are the fields of CiliumEventType.
func eventTypeKey(k []byte) int {
	switch string(k) {
	case "type":
		return 1
	case "sub_type", "subType":
		return 2
	}
	return 0
}

// Fields of Policy.
const (
	polName = iota + 1
	polNamespace
	polLabels
	polRevision
	polKind
)

func policyKey(k []byte) int {
	switch string(k) {
	case "name":
		return polName
	case "namespace":
		return polNamespace
	case "labels":
		return polLabels
	case "revision":
		return polRevision
	case "kind":
		return polKind
	}
	return 0
}

// Fields of GetFlowsResponse that the fast decoder reads.
const (
	rFlow = iota + 1
	rNodeName
	rTime
)

func responseKey(k []byte) int {
	switch string(k) {
	case "flow":
		return rFlow
	case "node_name", "nodeName":
		return rNodeName
	case "time":
		return rTime
	}
	return 0
}
