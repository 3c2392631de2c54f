package netpol

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Protocol is a transport protocol that a NetworkPolicy port can name. The
// zero value is ProtocolUnknown and matches no policy port.
type Protocol uint8

// The protocols of networking.k8s.io/v1 NetworkPolicy ports.
const (
	ProtocolUnknown Protocol = iota
	ProtocolTCP
	ProtocolUDP
	ProtocolSCTP
)

// String returns the Kubernetes spelling of p ("TCP", "UDP", "SCTP"), or
// "unknown".
func (p Protocol) String() string {
	switch p {
	case ProtocolTCP:
		return "TCP"
	case ProtocolUDP:
		return "UDP"
	case ProtocolSCTP:
		return "SCTP"
	case ProtocolICMP:
		return "ICMP"
	}
	return "unknown"
}

// ParseProtocol reads a protocol name, case-insensitively ("tcp", "TCP").
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToUpper(s) {
	case "TCP":
		return ProtocolTCP, nil
	case "UDP":
		return ProtocolUDP, nil
	case "SCTP":
		return ProtocolSCTP, nil
	}
	return ProtocolUnknown, fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", s)
}

// Probe is one kind of connection attempt: a protocol and a destination port.
// The zero value is not a valid probe.
type Probe struct {
	Protocol Protocol
	Port     uint16
}

// String renders p as "TCP/80".
func (p Probe) String() string {
	return p.Protocol.String() + "/" + strconv.Itoa(int(p.Port))
}

// Valid reports whether p names a port a NetworkPolicy can express: TCP,
// UDP or SCTP, and a port from 1 to 65535.
func (p Probe) Valid() bool {
	switch p.Protocol {
	case ProtocolTCP, ProtocolUDP, ProtocolSCTP:
		return p.Port > 0
	}
	return false
}

// Compare orders probes by protocol, then port: -1, 0 or +1, for
// slices.SortFunc.
func (p Probe) Compare(o Probe) int {
	return cmp.Or(cmp.Compare(p.Protocol, o.Protocol), cmp.Compare(p.Port, o.Port))
}

// ParseProbe reads "TCP/80" (also "tcp/80", "80/TCP" and a bare "80", which
// means TCP).
func ParseProbe(s string) (Probe, error) {
	proto, port, found := strings.Cut(s, "/")
	if !found {
		proto, port = "TCP", s
	} else if _, err := strconv.Atoi(proto); err == nil {
		proto, port = port, proto
	}
	pr, err := ParseProtocol(proto)
	if err != nil {
		return Probe{}, fmt.Errorf("probe %q: %w", s, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return Probe{}, fmt.Errorf("probe %q: port %q is not a number from 1 to 65535", s, port)
	}
	return Probe{Protocol: pr, Port: uint16(n)}, nil
}
